package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/apitest"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/expiry"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/storetest"
)

// After a scenario, /metrics shows each booking request, transition and
// rate-limited request under its result, and the pool's go_sql_* figures.
func TestProductMetricsCountTheScenario(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		slot := k.slot(t, slotOpts{})

		// Web: created, replayed, then the slot is full, then invalid.
		first := e.do("POST", "/v1/booking-requests", requestBody(slot), "Idempotency-Key: metrics-1")
		if first.Status != http.StatusCreated {
			t.Fatalf("create: got %d %s", first.Status, first.Body)
		}
		if r := e.do("POST", "/v1/booking-requests", requestBody(slot), "Idempotency-Key: metrics-1"); r.Status != http.StatusCreated {
			t.Fatalf("replay: got %d", r.Status)
		}
		if r := e.do("POST", "/v1/booking-requests", requestBody(slot)); r.Status != http.StatusConflict {
			t.Fatalf("full slot: got %d", r.Status)
		}
		if r := e.do("POST", "/v1/booking-requests", with(requestBody(slot), "patient.email", "nope")); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid: got %d", r.Status)
		}
		// Phone: one created, within the hour, so that check-in is open.
		phone := k.staffBook(t, rec, requestBody(k.slot(t, slotOpts{start: time.Now().Add(time.Hour).Truncate(time.Minute)})))

		// Transitions: confirm the web request, then confirm it again.
		var web struct {
			ID string `json:"id"`
		}
		first.decode(t, &web)
		if r := e.do("POST", "/v1/bookings/"+web.ID+"/confirm", nil, rec); r.Status != http.StatusOK {
			t.Fatalf("confirm: got %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", "/v1/bookings/"+web.ID+"/confirm", nil, rec); r.Status != http.StatusConflict {
			t.Fatalf("confirm again: got %d", r.Status)
		}
		if r := e.do("POST", "/v1/bookings/"+phone.ID+"/check-in", nil, rec); r.Status != http.StatusOK {
			t.Fatalf("check in: got %d %s", r.Status, r.Body)
		}

		tests := []struct {
			name   string
			labels []string
			want   float64
		}{
			{"booking_requests_total", []string{`source="web"`, `result="created"`}, 1},
			{"booking_requests_total", []string{`source="web"`, `result="replayed"`}, 1},
			{"booking_requests_total", []string{`source="web"`, `result="slot_unavailable"`}, 1},
			{"booking_requests_total", []string{`source="web"`, `result="validation_failed"`}, 1},
			{"booking_requests_total", []string{`source="phone"`, `result="created"`}, 1},
			{"booking_requests_total", nil, 5},
			{"booking_transitions_total", []string{`transition="confirm"`, `result="ok"`}, 1},
			{"booking_transitions_total", []string{`transition="confirm"`, `result="invalid_transition"`}, 1},
			{"booking_transitions_total", []string{`transition="check_in"`, `result="ok"`}, 1},
			{"booking_transitions_total", nil, 3},
			{"rate_limited_total", nil, 0},
		}
		for _, tt := range tests {
			if got := e.metric(tt.name, tt.labels...); got != tt.want {
				t.Errorf("%s%v: got %v, want %v", tt.name, tt.labels, got, tt.want)
			}
		}
		for _, name := range []string{"go_sql_open_connections", "go_sql_max_open_connections", "go_sql_wait_count_total"} {
			if got := e.metric(name, `db_name="main"`); name == "go_sql_max_open_connections" && got < 1 {
				t.Errorf("%s: got %v, want the pool's figure", name, got)
			}
			if !e.hasMetric(name) {
				t.Errorf("%s: missing from /metrics", name)
			}
		}
	})
}

func TestRateLimitedRequestsAreCounted(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, a *auth.Options) {
		o.PublicRateLimit = 1
		a.LoginRateLimit = 1
	})
	k := newClinic(t, e)
	slot := k.slot(t, slotOpts{capacity: 5})
	for range 3 {
		e.do("POST", "/v1/booking-requests", requestBody(slot))
	}
	for range 3 {
		e.login("nobody@clinic.example", "a wrong password")
	}
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"rate_limited_total", []string{`route="/v1/booking-requests"`}, 2},
		{"rate_limited_total", []string{`route="/v1/auth/login"`}, 2},
		{"booking_requests_total", []string{`source="web"`, `result="rate_limited"`}, 2},
		{"booking_requests_total", []string{`source="web"`, `result="created"`}, 1},
	}
	for _, tt := range tests {
		if got := e.metric(tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v: got %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}

// The expiry job's expirations are booking transitions too, counted on the
// server's metrics.
func TestExpiredBookingsAreCounted(t *testing.T) {
	st := storetest.Open(t, sqliteURL(t))
	a, err := auth.NewService(st, auth.Options{JWTSecret: []byte("test-secret-test-secret-test-secret!"), PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := httpapi.NewMetrics(reg, st.PoolCollectors())
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.NewServer(httpapi.Deps{
		Store: st, Auth: a, Log: slog.New(slog.DiscardHandler), Registry: reg, Metrics: m,
		Options: httpapi.Options{BodyLimit: 64 << 10, Policy: testPolicy},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, URL: srv.URL, Store: st, Auth: a, client: &http.Client{Transport: apitest.Transport(t, nil), Timeout: 30 * time.Second}}
	k := newClinic(t, e)
	slot := k.slot(t, slotOpts{capacity: 3})
	for i := range 2 {
		if r := e.do("POST", "/v1/booking-requests", requestBody(slot)); r.Status != http.StatusCreated {
			t.Fatalf("request %d: got %d %s", i, r.Status, r.Body)
		}
	}
	err = expiry.RunOnce(context.Background(), st, expiry.Config{
		PendingExpiry: time.Minute, Now: func() time.Time { return time.Now().Add(time.Hour) }, OnExpired: m.Expired,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.metric("booking_transitions_total", `transition="expire"`, `result="ok"`); got != 2 {
		t.Errorf("expire transitions: got %v, want 2", got)
	}
}
