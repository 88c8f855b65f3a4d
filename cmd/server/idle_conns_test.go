package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// The server binary caps idle keep-alive connections per client address at
// MAX_IDLE_CONNS_PER_CLIENT: one client leaving ten idle keeps three.
func TestRunCapsIdleConnectionsPerClient(t *testing.T) {
	base := startServer(t, map[string]string{"MAX_IDLE_CONNS_PER_CLIENT": "3"})
	addr := strings.TrimPrefix(base, "http://")
	var readers []*bufio.Reader
	var conns []net.Conn
	for range 10 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		r := bufio.NewReader(c)
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: clinic.example\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		conns, readers = append(conns, c), append(readers, r)
	}
	// The server marks a connection idle (and closes another) just after
	// its answer left: on a busy machine that can come a little later.
	open := 0
	for range 40 {
		open = 0
		for i, c := range conns {
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, err := readers[i].ReadByte(); errors.Is(err, os.ErrDeadlineExceeded) {
				open++
			}
		}
		if open == 3 {
			return
		}
	}
	t.Fatalf("idle connections left open: got %d of 10, want 3", open)
}
