package httpapi_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/clinic/consult/internal/httpapi"
)

// One client address cannot hold more than the cap of idle keep-alive
// connections: on a real listener, a client opens many, makes one request on
// each and leaves them idle; all but the cap's worth (the most recently
// used) are closed by the server at once. An exempt address (a trusted
// proxy) keeps them all.
func TestIdleConnectionsPerClientAreCapped(t *testing.T) {
	tests := []struct {
		name     string
		exempt   []string
		conns    int
		wantOpen int
	}{
		{"capped", nil, 40, 5},
		{"exempt proxy", []string{"127.0.0.0/8"}, 12, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Write([]byte("ok"))
			}))
			// The server marks a connection idle just after its answer has
			// left: the client waits for that before the next one, so the
			// connections go idle in its order. (This hook also shows that
			// LimitIdleConns keeps the server's own.)
			idle := make(chan struct{}, 1)
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateIdle {
					idle <- struct{}{}
				}
			}
			if err := httpapi.LimitIdleConns(srv.Config, 5, tt.exempt); err != nil {
				t.Fatal(err)
			}
			srv.Start()
			t.Cleanup(srv.Close)

			conns := make([]net.Conn, tt.conns)
			readers := make([]*bufio.Reader, tt.conns)
			for i := range conns {
				c, err := net.Dial("tcp", srv.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				conns[i], readers[i] = c, bufio.NewReader(c)
				get(t, c, readers[i])
				<-idle
			}
			// The server closes before the next connection goes idle; give
			// the last close a moment to reach the client.
			time.Sleep(100 * time.Millisecond)
			var open []int
			for i, c := range conns {
				c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				_, err := readers[i].ReadByte()
				switch {
				case errors.Is(err, os.ErrDeadlineExceeded):
					open = append(open, i)
				case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err):
				default:
					t.Fatalf("connection %d: got %v, want it open (timeout) or closed (EOF)", i, err)
				}
			}
			if len(open) != tt.wantOpen || open[0] != tt.conns-tt.wantOpen {
				t.Fatalf("open connections: got %v, want the last %d of %d", open, tt.wantOpen, tt.conns)
			}
			// Those left open still serve.
			i := open[0]
			conns[i].SetReadDeadline(time.Time{})
			get(t, conns[i], readers[i])
			<-idle
		})
	}
}

// get sends one keep-alive GET on c and reads the answer.
func get(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: clinic.example\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", res.StatusCode)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}
