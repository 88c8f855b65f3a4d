package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/apitest"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// env is one running server on a real database, reached over real HTTP by a
// client that checks every response against openapi.yaml.
type env struct {
	t      testing.TB
	URL    string
	Store  *store.Store
	Auth   *auth.Service
	client *http.Client
	shift  *atomic.Int64 // how far the server's clock runs ahead of the real one
}

// travelTo sets the server's clock so that it reads at now, and runs on
// from there.
func (e *env) travelTo(at time.Time) { e.shift.Store(int64(time.Until(at))) }

// envOption adjusts the server's options before it starts.
type envOption func(*httpapi.Options, *auth.Options)

// testPolicy is the booking window of most tests: the defaults.
var testPolicy = booking.Policy{MinNotice: 2 * time.Hour, MaxAdvance: 120 * 24 * time.Hour, PatientChangeCutoff: 24 * time.Hour,
	CheckinOpens: 3 * time.Hour}

// newEnv starts a server on the database at dbURL. Several envs on one URL
// are several server instances sharing a database.
func newEnv(t testing.TB, dbURL string, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, storetest.Open(t, dbURL), nil, opts...)
}

// newEnvLogging is newEnv with the server's log written to log.
func newEnvLogging(t testing.TB, dbURL string, log *slog.Logger, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, storetest.Open(t, dbURL), func(d *httpapi.Deps) { d.Log = log }, opts...)
}

// newEnvOn starts a server on an open store; deps, when set, adjusts the
// server's dependencies before it starts.
func newEnvOn(t testing.TB, st *store.Store, deps func(*httpapi.Deps), opts ...envOption) *env {
	t.Helper()
	ao := auth.Options{
		JWTSecret: []byte("test-secret-test-secret-test-secret!"), Issuer: "clinic-booking", Audience: "clinic-staff",
		PasswordCost: 4, // bcrypt's minimum keeps tests fast; production uses 12
	}
	ho := httpapi.Options{BodyLimit: 64 << 10, Policy: testPolicy}
	if st.Dialect() == store.Postgres {
		// As the server does: limits shared by the instances on the database.
		ho.RateCounter = st.RateCounter()
		ao.Counter = st.RateCounter()
	}
	for _, o := range opts {
		o(&ho, &ao)
	}
	authSvc, err := auth.NewService(st, ao)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	shift := new(atomic.Int64)
	d := httpapi.Deps{
		Store: st, Auth: authSvc, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Options: ho,
		Now:  func() time.Time { return time.Now().Add(time.Duration(shift.Load())) },
		Done: done,
	}
	if deps != nil {
		deps(&d)
	}
	h, err := httpapi.NewServer(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: open event streams end, so Close need not wait

	return &env{
		t: t, URL: srv.URL, Store: st, Auth: authSvc, shift: shift,
		client: &http.Client{Transport: apitest.Transport(t, nil), Timeout: 30 * time.Second},
	}
}

// eachBackend runs fn on a fresh server over every test database.
func eachBackend(t *testing.T, fn func(t *testing.T, e *env), opts ...envOption) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, newEnv(t, b.URL(t), opts...))
		})
	}
}

// resp is a response read whole.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// decode unmarshals the body into v, failing the test when it cannot.
func (r resp) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// code returns the problem code of an error response.
func (r resp) code() string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.Body, &p)
	return p.Code
}

// do sends a request. body may be nil, a string or []byte (sent as is) or any
// value (sent as JSON). headers are "Name: value" strings.
func (e *env) do(method, path string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		if h == "" {
			continue
		}
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

var staffSeq atomic.Int64

// staff creates an account of role and logs it in, returning the account
// and an "Authorization: Bearer ..." header for it.
func (e *env) staff(role auth.Role) (auth.Staff, string) {
	e.t.Helper()
	email := fmt.Sprintf("%s%d@clinic.example", role, staffSeq.Add(1))
	const pw = "correct horse battery"
	st, err := e.Auth.CreateStaff(context.Background(), nil, auth.NewStaff{Email: email, Name: string(role), Role: string(role), Password: pw}, "")
	if err != nil {
		e.t.Fatalf("create %s: %v", role, err)
	}
	r := e.do("POST", "/v1/auth/login", map[string]string{"email": email, "password": pw})
	if r.Status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", role, r.Status, r.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.decode(e.t, &tok)
	return st, "Authorization: Bearer " + tok.AccessToken
}

// token returns just the bearer header for a new account of role.
func (e *env) token(role auth.Role) string {
	_, h := e.staff(role)
	return h
}

// sqliteURL is a fresh SQLite database, for tests whose subject does not
// depend on the backend.
func sqliteURL(t testing.TB) string { return storetest.SQLiteURL(t) }

// runFollower starts queue q and relay (a follower of the live feed: its
// Relay method) until the test ends, then stops the relay first and the
// queue after it, so that no job is written to a stopped queue.
func runFollower(t *testing.T, q *delivery.Queue, relay func(context.Context)) {
	t.Helper()
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, stopRelay := context.WithCancel(context.Background())
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		relay(ctx)
	}()
	t.Cleanup(func() {
		stopRelay()
		<-relayed
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(stop)
	})
}
