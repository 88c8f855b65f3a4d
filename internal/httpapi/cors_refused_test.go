package httpapi_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// A request from an origin CORS_ALLOWED_ORIGINS does not list is logged
// at WARN with the origin, once a minute per origin at most.
func TestRefusedOriginIsLogged(t *testing.T) {
	for _, allowed := range [][]string{{"https://www.clinic.example"}, nil} {
		t.Run(func() string {
			if allowed == nil {
				return "no origins allowed"
			}
			return "one origin allowed"
		}(), func(t *testing.T) {
			logs := &syncBuffer{}
			e := newEnvLogging(t, sqliteURL(t), slog.New(slog.NewJSONHandler(logs, nil)), func(o *httpapi.Options, _ *auth.Options) {
				o.CORSAllowedOrigins = allowed
			})
			send := func(method, origin string) {
				t.Helper()
				req, _ := http.NewRequest(method, e.URL+"/v1/booking-requests", nil)
				if method == http.MethodGet {
					req, _ = http.NewRequest(method, e.URL+"/v1/consultation-types", nil)
				}
				req.Header.Set("Origin", origin)
				req.Header.Set("Access-Control-Request-Method", "POST")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
			}
			refused := func() []string {
				var out []string
				for _, l := range logs.lines() {
					if l["level"] == "WARN" && l["origin"] != nil {
						out = append(out, l["origin"].(string))
					}
				}
				return out
			}
			steps := []struct {
				name    string
				advance time.Duration
				method  string
				origin  string
				want    int // refused-origin lines so far
			}{
				{"a mis-typed origin's preflight", 0, http.MethodOptions, "https://clinic.example", 1},
				{"its GET at once after", 0, http.MethodGet, "https://clinic.example", 1},
				{"59s later", 59 * time.Second, http.MethodOptions, "https://clinic.example", 1},
				{"another origin", 0, http.MethodGet, "http://localhost:3000", 2},
				{"the server's own host", 0, http.MethodGet, e.URL, 2},
				{"a minute after the first", time.Second, http.MethodOptions, "https://clinic.example", 3},
			}
			if allowed != nil {
				steps = append(steps, struct {
					name    string
					advance time.Duration
					method  string
					origin  string
					want    int
				}{"the allowed origin", 0, http.MethodOptions, allowed[0], 3})
			}
			var shift time.Duration
			for _, st := range steps {
				shift += st.advance
				e.shift.Store(int64(shift))
				send(st.method, st.origin)
				got := refused()
				if len(got) != st.want {
					t.Fatalf("%s: got %d refused-origin lines %v, want %d", st.name, len(got), got, st.want)
				}
				if st.want > 0 && got[len(got)-1] == "" {
					t.Errorf("%s: line without the origin", st.name)
				}
			}
			if got := refused(); got[0] != "https://clinic.example" || got[1] != "http://localhost:3000" {
				t.Errorf("origins logged: got %v", got)
			}
		})
	}
}
