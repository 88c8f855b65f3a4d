package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

func TestOperationsEndpoints(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		tests := []struct {
			path, wantType, wantBody string
		}{
			{"/healthz", "application/json", `"ok"`},
			{"/readyz", "application/json", `"ok"`},
			{"/metrics", "text/plain", "go_goroutines"},
			{"/openapi.yaml", "application/yaml", "openapi: 3.0.3"},
		}
		for _, tt := range tests {
			r := e.do("GET", tt.path, nil)
			if r.Status != http.StatusOK {
				t.Errorf("GET %s: got %d, want 200", tt.path, r.Status)
			}
			if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("GET %s content type: got %q, want %q", tt.path, got, tt.wantType)
			}
			if !strings.Contains(string(r.Body), tt.wantBody) {
				t.Errorf("GET %s body lacks %q", tt.path, tt.wantBody)
			}
		}
		// The request above is counted by route template, not raw path.
		r := e.do("GET", "/metrics", nil)
		if want := `http_requests_total{method="GET",route="/healthz",status="200"} 1`; !strings.Contains(string(r.Body), want) {
			t.Errorf("metrics lack %q", want)
		}
	})
}

func TestReadyzFailsWhenDatabaseIsGone(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.Store.Close()
		r := e.do("GET", "/readyz", nil)
		if r.Status != http.StatusServiceUnavailable {
			t.Errorf("readyz with closed database: got %d, want 503", r.Status)
		}
		if r := e.do("GET", "/healthz", nil); r.Status != http.StatusOK {
			t.Errorf("healthz with closed database: got %d, want 200", r.Status)
		}
	})
}

func TestFrameLevelBadInput(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	huge := `{"email":"` + strings.Repeat("a", 70<<10) + `","password":"x"}`
	tests := []struct {
		name, method, path string
		body               any
		headers            []string
		wantStatus         int
		wantCode           string
	}{
		{"broken json", "POST", "/v1/auth/login", `{"email":`, nil, 400, "malformed_json"},
		{"not json at all", "POST", "/v1/auth/login", `hello`, nil, 400, "malformed_json"},
		{"two values", "POST", "/v1/auth/login", `{"email":"a","password":"b"}{}`, nil, 400, "malformed_json"},
		{"empty body", "POST", "/v1/auth/login", ``, nil, 400, "malformed_json"},
		{"huge body", "POST", "/v1/auth/login", huge, nil, 413, "payload_too_large"},
		{"wrong content type", "POST", "/v1/auth/login", `{"email":"a","password":"b"}`, []string{"Content-Type: text/plain"}, 415, "unsupported_media_type"},
		{"unknown field", "POST", "/v1/auth/login", `{"email":"a","password":"b","admin":true}`, nil, 422, "validation_failed"},
		{"wrong type", "POST", "/v1/auth/login", `{"email":1,"password":"b"}`, nil, 422, "validation_failed"},
		{"array body", "POST", "/v1/auth/login", `[]`, nil, 422, "validation_failed"},
		{"unknown route", "GET", "/v1/nothing-here", nil, nil, 404, "not_found"},
		{"wrong method", "DELETE", "/healthz", nil, nil, 405, "method_not_allowed"},
		{"NUL in a JSON string", "POST", "/v1/auth/login", `{"email":"a\u0000@x.example","password":"b"}`, nil, 422, "validation_failed"},
		{"NUL in a query", "GET", "/v1/availability?from=2026-12-01%00&to=2026-12-02", nil, nil, 400, "invalid_parameter"},
		{"invalid UTF-8 in a query", "GET", "/v1/availability?from=%ff&to=2026-12-02", nil, nil, 400, "invalid_parameter"},
		{"bad uuid in path", "GET", "/v1/providers/not-a-uuid", nil, nil, 400, "invalid_parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body, tt.headers...)
			if r.Status != tt.wantStatus || r.code() != tt.wantCode {
				t.Errorf("got %d %q, want %d %q (body %s)", r.Status, r.code(), tt.wantStatus, tt.wantCode, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type: got %q, want application/problem+json", ct)
			}
			if r.Status == http.StatusMethodNotAllowed && r.Header.Get("Allow") != "GET" {
				t.Errorf("405: Allow %q, want GET", r.Header.Get("Allow"))
			}
		})
	}
}

func TestSecurityHeadersAndRequestID(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	r := e.do("GET", "/healthz", nil, "X-Request-ID: abc-123")
	if got := r.Header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("request id: got %q, want the one sent", got)
	}
	r = e.do("GET", "/healthz", nil, "X-Request-ID: <script>")
	if got := r.Header.Get("X-Request-ID"); got == "<script>" || got == "" {
		t.Errorf("unsafe request id: got %q, want a fresh one", got)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy"} {
		if r.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
}

// Only configured origins may call the API from a browser.
func TestCORSAllowsOnlyConfiguredOrigins(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) {
		o.CORSAllowedOrigins = []string{"https://www.clinic.example"}
	})
	tests := []struct {
		origin, want string
	}{
		{"https://www.clinic.example", "https://www.clinic.example"},
		{"https://evil.example", ""},
	}
	for _, tt := range tests {
		// A preflight is not an API call the spec describes; send it raw.
		req, _ := http.NewRequest(http.MethodOptions, e.URL+"/v1/booking-requests", nil)
		req.Header.Set("Origin", tt.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,idempotency-key")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != tt.want {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want %q", tt.origin, got, tt.want)
		}
	}
	r := e.do("GET", "/v1/consultation-types", nil, "Origin: https://www.clinic.example")
	if !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "Idempotent-Replayed") {
		t.Errorf("exposed headers: got %q", r.Header.Get("Access-Control-Expose-Headers"))
	}
}
