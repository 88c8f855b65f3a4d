package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/storetest"
)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// metric returns the value of the sample of name whose labels include
// every one of labels ("k=\"v\"" strings), summed over matching samples.
func (e *env) metric(name string, labels ...string) float64 {
	e.t.Helper()
	res, err := http.Get(e.URL + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		var v float64
		f := strings.Fields(line)
		if _, err := fmtSscan(f[len(f)-1], &v); err == nil {
			sum += v
		}
	}
	return sum
}

// A client that gives up while its request waits for the database is not
// a server error: the request is logged at INFO with status 499 and counted
// as a 499, never as a 5xx.
func TestClientGoneIsA499(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testClientGone(t, b.Name, b.URL(t)) })
	}
}

// holdSessionWrites makes writes of new sessions wait until the returned
// function is called: on SQLite another connection holds the write lock,
// on PostgreSQL an exclusive lock on refresh_tokens.
func holdSessionWrites(t *testing.T, backend, dbURL string) func() {
	t.Helper()
	driver, dsn, begin := "sqlite3", "file:"+strings.TrimPrefix(dbURL, "sqlite://")+"?_busy_timeout=5000", []string{"BEGIN IMMEDIATE"}
	if backend == "postgres" {
		driver, dsn, begin = "pgx", dbURL, []string{"BEGIN", "LOCK TABLE refresh_tokens IN ACCESS EXCLUSIVE MODE"}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range begin {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Error(err)
		}
		conn.Close()
		db.Close()
	}
}

func testClientGone(t *testing.T, backend, dbURL string) {
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnvLogging(t, dbURL, log)
	e.newAccount(auth.RoleReception, "gone@clinic.example", "a long password 1")

	// The login's session write waits on a lock, and the client gives up
	// meanwhile.
	release := holdSessionWrites(t, backend, dbURL)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.URL+"/v1/auth/login",
		strings.NewReader(`{"email": "gone@clinic.example", "password": "a long password 1"}`))
	req.Header.Set("Content-Type", "application/json")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		release()
		t.Fatalf("login answered %d while the database was locked; the test needs it to wait", res.StatusCode)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		release()
		t.Fatalf("client: got %v, want its own deadline", err)
	}
	release()

	var line map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for line == nil && time.Now().Before(deadline) {
		for _, l := range logs.lines() {
			if l["msg"] == "request" && l["route"] == "/v1/auth/login" {
				line = l
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if line == nil {
		t.Fatal("no access log line for the abandoned login")
	}
	if line["status"] != float64(499) || line["level"] != "INFO" {
		t.Errorf("access log: got status %v level %v, want 499 at INFO", line["status"], line["level"])
	}
	for _, l := range logs.lines() {
		if l["level"] == "ERROR" || l["level"] == "WARN" {
			t.Errorf("logged at %v: %v", l["level"], l["msg"])
		}
	}
	if got := e.metric("http_requests_total", `route="/v1/auth/login"`, `status="499"`); got != 1 {
		t.Errorf("http_requests_total 499: got %v, want 1", got)
	}
	for _, s := range []string{"500", "502", "503", "504"} {
		if got := e.metric("http_requests_total", `status="`+s+`"`); got != 0 {
			t.Errorf("http_requests_total %s: got %v, want 0", s, got)
		}
	}
}

// While the server drains before shutting down, /readyz answers 503 so a
// load balancer stops sending; everything else is still served.
func TestReadyzFailsWhileDraining(t *testing.T) {
	var draining bool
	var mu sync.Mutex
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) {
		o.Draining = func() bool { mu.Lock(); defer mu.Unlock(); return draining }
	})
	if r := e.do("GET", "/readyz", nil); r.Status != 200 {
		t.Fatalf("readyz before draining: got %d, want 200", r.Status)
	}
	mu.Lock()
	draining = true
	mu.Unlock()
	if r := e.do("GET", "/readyz", nil); r.Status != 503 || r.code() != "not_ready" {
		t.Errorf("readyz while draining: got %d %q, want 503 not_ready", r.Status, r.code())
	}
	if r := e.do("GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("healthz while draining: got %d, want 200", r.Status)
	}
}

func fmtSscan(s string, v *float64) (int, error) { return fmt.Sscan(s, v) }

// hasMetric reports whether /metrics has a sample of name.
func (e *env) hasMetric(name string) bool {
	e.t.Helper()
	res, err := http.Get(e.URL + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return strings.Contains(string(body), "\n"+name+"{") || strings.Contains(string(body), "\n"+name+" ")
}

// Origins the CORS package cannot use are an error from NewServer, never a
// panic, even when they did not come through the configuration's checks.
func TestNewServerRefusesBadOriginsWithoutPanic(t *testing.T) {
	st := storetest.Open(t, sqliteURL(t))
	a, err := auth.NewService(st, auth.Options{JWTSecret: []byte("test-secret-test-secret-test-secret!"), PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, origin := range []string{"www.clinic.example", "HTTPS://www.clinic.example"} {
		_, err := httpapi.NewServer(httpapi.Deps{
			Store: st, Auth: a, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(),
			Options: httpapi.Options{CORSAllowedOrigins: []string{origin}},
		})
		if err == nil || !strings.Contains(err.Error(), "CORS_ALLOWED_ORIGINS") {
			t.Errorf("%s: got %v, want an error naming CORS_ALLOWED_ORIGINS", origin, err)
		}
	}
}
