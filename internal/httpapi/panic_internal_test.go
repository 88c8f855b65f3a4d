package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/storetest"
)

// A panicking handler answers a bare 500 problem, logs no internals to the
// client, and the server keeps serving.
func TestPanicBecomesProblemAndServerLivesOn(t *testing.T) {
	var logs strings.Builder
	h := newInternalServer(t, &logs)
	accessControl["GET /test/panic"] = publicRoute
	t.Cleanup(func() { delete(accessControl, "GET /test/panic") })
	h.GET("/test/panic", func(*gin.Context) { panic("secret internal state") })
	srv := httptest.NewServer(h)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/test/panic")
	if err != nil {
		t.Fatal(err)
	}
	var p problem
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 500 || p.Code != "internal_error" {
		t.Errorf("got %d %q, want 500 internal_error", res.StatusCode, p.Code)
	}
	if strings.Contains(p.Detail, "secret") {
		t.Errorf("problem detail leaks the panic: %q", p.Detail)
	}
	if !strings.Contains(logs.String(), "panic recovered") || !strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("logs lack the recovered panic and its 500 access line:\n%s", logs.String())
	}
	res, err = http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("after panic: healthz got %d, want 200", res.StatusCode)
	}
}

func newInternalServer(t *testing.T, logs *strings.Builder) *gin.Engine {
	t.Helper()
	st := storetest.Open(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"))
	a, err := auth.NewService(st, auth.Options{JWTSecret: []byte(strings.Repeat("k", 32)), PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewServer(Deps{Store: st, Auth: a, Log: slog.New(slog.NewJSONHandler(logs, nil)), Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	return h.(*gin.Engine)
}

// Every route the router serves has an access rule, and every rule names a
// served route: a new route cannot ship without deciding who may call it.
func TestEveryRouteHasAnAccessRule(t *testing.T) {
	var logs strings.Builder
	eng := newInternalServer(t, &logs)
	served := map[string]bool{}
	for _, r := range eng.Routes() {
		key := r.Method + " " + r.Path
		served[key] = true
		if _, ok := accessControl[key]; !ok {
			t.Errorf("route %s has no entry in accessControl", key)
		}
	}
	for key := range accessControl {
		if !served[key] {
			t.Errorf("accessControl names %s, which no route serves", key)
		}
	}
}
