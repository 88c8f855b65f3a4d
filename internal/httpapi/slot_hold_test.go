package httpapi_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/apitest"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// testClock is a clock tests move forward; nothing else moves it.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// newClockEnv is newEnv with the server's and the store's clock on c, so a
// test can let holds expire without waiting (and with no job running).
func newClockEnv(t testing.TB, dbURL string, c *testClock, opts ...envOption) *env {
	t.Helper()
	st := storetest.Open(t, dbURL, store.WithClock(c.now))
	ao := auth.Options{
		JWTSecret: []byte("test-secret-test-secret-test-secret!"), Issuer: "clinic-booking", Audience: "clinic-staff",
		PasswordCost: 4,
	}
	ho := httpapi.Options{BodyLimit: 64 << 10, Policy: testPolicy}
	for _, o := range opts {
		o(&ho, &ao)
	}
	authSvc, err := auth.NewService(st, ao)
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.NewServer(httpapi.Deps{
		Store: st, Auth: authSvc, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Options: ho, Now: c.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, URL: srv.URL, Store: st, Auth: authSvc,
		client: &http.Client{Transport: apitest.Transport(t, nil), Timeout: 30 * time.Second}}
}

// eachClockBackend is eachBackend with a test clock.
func eachClockBackend(t *testing.T, fn func(t *testing.T, e *env, c *testClock), opts ...envOption) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			c := &testClock{}
			fn(t, newClockEnv(t, b.URL(t), c, opts...), c)
		})
	}
}

// holdJSON is the 201 of POST /v1/slot-holds.
type holdJSON struct {
	ID        string    `json:"id"`
	SlotID    string    `json:"slot_id"`
	HoldToken string    `json:"hold_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (e *env) hold(t testing.TB, slot uuid.UUID) holdJSON {
	t.Helper()
	r := e.do("POST", "/v1/slot-holds", map[string]any{"slot_id": slot.String()})
	if r.Status != http.StatusCreated {
		t.Fatalf("hold: got %d %s, want 201", r.Status, r.Body)
	}
	var h holdJSON
	r.decode(t, &h)
	return h
}

func heldBody(slot uuid.UUID, token string) map[string]any {
	return with(requestBody(slot), "hold_token", token)
}

// manyHolds lifts the limits and believes X-Forwarded-For from the test
// client, so that concurrent holds come from many addresses (holds from one
// address are serialised by the per-address limit, which would hide a race
// on the slot).
func manyHolds(o *httpapi.Options, _ *auth.Options) {
	o.PublicHoldLimit = 1000
	o.PublicRateLimit = 0
	o.TrustedProxies = []string{"127.0.0.1", "::1"}
}

// fromClient is the X-Forwarded-For header of the i-th test client address.
func fromClient(i int) string { return fmt.Sprintf("X-Forwarded-For: 10.0.%d.%d", i/250, i%250+1) }

// A held place is taken for everyone else: availability leaves it out,
// nobody else can hold or book it, and its holder books it with the token,
// which the booking uses up.
func TestHoldKeepsThePlaceForItsHolder(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		reception := e.token(auth.RoleReception)
		id := k.slot(t, slotOpts{})
		if got := k.offered(t); !slices.Contains(got, id.String()) {
			t.Fatalf("before the hold: got %v, want the slot offered", got)
		}
		h := e.hold(t, id)
		if h.SlotID != id.String() || h.HoldToken == "" {
			t.Fatalf("hold = %+v", h)
		}
		if d := time.Until(h.ExpiresAt); d < 9*time.Minute || d > 10*time.Minute+time.Second {
			t.Errorf("hold expires in %s, want about 10m (the default HOLD_TTL)", d)
		}
		if got := k.offered(t); slices.Contains(got, id.String()) {
			t.Errorf("held: still offered in %v", got)
		}
		var staffView struct {
			Booked    int `json:"booked"`
			Remaining int `json:"remaining"`
		}
		e.do("GET", "/v1/slots/"+id.String(), nil, reception).decode(t, &staffView)
		if staffView.Booked != 0 || staffView.Remaining != 0 {
			t.Errorf("staff view of the held slot: %+v, want booked 0, remaining 0", staffView)
		}
		for name, r := range map[string]resp{
			"another hold":             e.do("POST", "/v1/slot-holds", map[string]any{"slot_id": id.String()}),
			"a booking without a hold": e.do("POST", "/v1/booking-requests", requestBody(id)),
			"a phone booking":          e.do("POST", "/v1/bookings", requestBody(id), reception),
		} {
			if r.Status != http.StatusConflict || r.code() != "slot_unavailable" {
				t.Errorf("%s: got %d %s, want 409 slot_unavailable", name, r.Status, r.Body)
			}
		}
		if r := e.do("POST", "/v1/booking-requests", heldBody(id, "ht_not-a-real-token")); r.Status != http.StatusNotFound {
			t.Errorf("booking with an unknown hold token: got %d %s, want 404", r.Status, r.Body)
		}
		r := e.do("POST", "/v1/booking-requests", heldBody(id, h.HoldToken))
		if r.Status != http.StatusCreated {
			t.Fatalf("booking with the hold: got %d %s, want 201", r.Status, r.Body)
		}
		var b struct {
			Reference            string     `json:"reference"`
			ManageToken          string     `json:"manage_token"`
			ChangeableUntil      *time.Time `json:"changeable_until"`
			Timezone             string     `json:"timezone"`
			ProviderName         string     `json:"provider_name"`
			LocationName         string     `json:"location_name"`
			ConsultationTypeName string     `json:"consultation_type_name"`
		}
		r.decode(t, &b)
		if b.Timezone != "America/Los_Angeles" || b.ProviderName != "Dr. Dana Reyes" || b.LocationName != "Main office" ||
			b.ConsultationTypeName != "New patient consultation" || b.ChangeableUntil == nil {
			t.Errorf("booking view = %s, want the names, zone and changeable_until", r.Body)
		}
		if got := k.booked(t, id); got != 1 {
			t.Errorf("booked = %d, want 1", got)
		}
		// The hold is used up: releasing it or booking with it again is 404.
		if r := e.do("DELETE", "/v1/slot-holds/"+h.ID, nil, "X-Hold-Token: "+h.HoldToken); r.Status != http.StatusNotFound {
			t.Errorf("release a used hold: got %d %s, want 404", r.Status, r.Body)
		}
		n, err := e.Store.LiveHolds(t.Context())
		if err != nil || n != 0 {
			t.Errorf("live holds after the booking = %d, %v; want 0", n, err)
		}
	})
}

// A released hold gives the place back at once, also to a cached
// availability answer; a wrong token releases nothing.
func TestReleaseHold(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		id := k.slot(t, slotOpts{})
		h := e.hold(t, id)
		if got := k.offered(t); slices.Contains(got, id.String()) {
			t.Fatalf("held: still offered in %v", got)
		}
		if r := e.do("DELETE", "/v1/slot-holds/"+h.ID, nil, "X-Hold-Token: ht_wrong"); r.Status != http.StatusNotFound {
			t.Errorf("wrong token: got %d %s, want 404", r.Status, r.Body)
		}
		if r := e.do("DELETE", "/v1/slot-holds/"+uuid.NewString(), nil, "X-Hold-Token: "+h.HoldToken); r.Status != http.StatusNotFound {
			t.Errorf("unknown hold: got %d %s, want 404", r.Status, r.Body)
		}
		if got := k.offered(t); slices.Contains(got, id.String()) {
			t.Errorf("after a wrong release: offered again in %v", got)
		}
		if r := e.do("DELETE", "/v1/slot-holds/"+h.ID, nil, "X-Hold-Token: "+h.HoldToken); r.Status != http.StatusNoContent {
			t.Fatalf("release: got %d %s, want 204", r.Status, r.Body)
		}
		if got := k.offered(t); !slices.Contains(got, id.String()) {
			t.Errorf("released: got %v, want the slot offered again", got)
		}
	})
}

// An expired hold counts for nothing, with no job running: availability
// (also a cached answer) offers the place again, another visitor can hold
// or book it, and the expired token books nothing (409 hold_expired).
func TestExpiredHoldCountsForNothing(t *testing.T) {
	eachClockBackend(t, func(t *testing.T, e *env, c *testClock) {
		k := newClinic(t, e)
		id := k.slot(t, slotOpts{})
		h := e.hold(t, id)
		if got := k.offered(t); slices.Contains(got, id.String()) {
			t.Fatalf("held: still offered in %v", got)
		}
		c.advance(10*time.Minute + time.Second)
		if got := k.offered(t); !slices.Contains(got, id.String()) {
			t.Errorf("hold expired: got %v, want the slot offered again", got)
		}
		other := e.hold(t, id)
		if r := e.do("POST", "/v1/booking-requests", heldBody(id, h.HoldToken)); r.Status != http.StatusConflict || r.code() != "hold_expired" {
			t.Errorf("booking with the expired hold: got %d %s, want 409 hold_expired", r.Status, r.Body)
		}
		c.advance(10*time.Minute + time.Second)
		// With every hold expired, a booking without one takes the place.
		if r := e.do("POST", "/v1/booking-requests", requestBody(id)); r.Status != http.StatusCreated {
			t.Errorf("booking after the holds expired: got %d %s, want 201", r.Status, r.Body)
		}
		if r := e.do("POST", "/v1/booking-requests", heldBody(id, other.HoldToken)); r.Status != http.StatusConflict || r.code() != "hold_expired" {
			t.Errorf("booking with the second expired hold: got %d %s, want 409 hold_expired", r.Status, r.Body)
		}
	}, noRateLimit)
}

// At most PUBLIC_HOLD_LIMIT live holds per client address; the next is 429
// with Retry-After until the first of them expires.
func TestHoldLimitPerAddress(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		e.hold(t, k.slot(t, slotOpts{}))
		e.hold(t, k.slot(t, slotOpts{}))
		r := e.do("POST", "/v1/slot-holds", map[string]any{"slot_id": k.slot(t, slotOpts{}).String()})
		if r.Status != http.StatusTooManyRequests || r.code() != "hold_limit" {
			t.Fatalf("third hold: got %d %s, want 429 hold_limit", r.Status, r.Body)
		}
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 600 {
			t.Errorf("Retry-After = %q, want 1 to 600 seconds", r.Header.Get("Retry-After"))
		}
	}, func(o *httpapi.Options, _ *auth.Options) { o.PublicRateLimit = 0; o.PublicHoldLimit = 2 })
}

// Holds count against PUBLIC_RATE_LIMIT like the other public writes.
func TestHoldsCountAgainstThePublicRateLimit(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) { o.PublicRateLimit = 3; o.PublicHoldLimit = 100 })
	k := newClinic(t, e)
	for i := range 3 {
		if r := e.do("POST", "/v1/slot-holds", map[string]any{"slot_id": k.slot(t, slotOpts{}).String()}); r.Status != http.StatusCreated {
			t.Fatalf("hold %d: got %d %s, want 201", i+1, r.Status, r.Body)
		}
	}
	r := e.do("POST", "/v1/slot-holds", map[string]any{"slot_id": k.slot(t, slotOpts{}).String()})
	if r.Status != http.StatusTooManyRequests || r.code() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Errorf("fourth hold in a minute: got %d %s, want 429 rate_limited with Retry-After", r.Status, r.Body)
	}
}

func TestHoldErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		full := k.slot(t, slotOpts{})
		k.request(t, full)
		for _, tc := range []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"full", map[string]any{"slot_id": full.String()}, http.StatusConflict, "slot_unavailable"},
			{"blocked", map[string]any{"slot_id": k.slot(t, slotOpts{blocked: true}).String()}, http.StatusConflict, "slot_unavailable"},
			{"too soon", map[string]any{"slot_id": k.slot(t, slotOpts{start: time.Now().Add(time.Hour)}).String()}, http.StatusConflict, "slot_unavailable"},
			{"unknown slot", map[string]any{"slot_id": uuid.NewString()}, http.StatusUnprocessableEntity, "validation_failed"},
			{"not a uuid", map[string]any{"slot_id": "x"}, http.StatusUnprocessableEntity, "validation_failed"},
			{"unknown field", map[string]any{"slot_id": full.String(), "x": 1}, http.StatusUnprocessableEntity, "validation_failed"},
		} {
			r := e.do("POST", "/v1/slot-holds", tc.body)
			if r.Status != tc.status || r.code() != tc.code {
				t.Errorf("%s: got %d %s, want %d %s", tc.name, r.Status, r.Body, tc.status, tc.code)
			}
		}
	}, manyHolds)
}

// Rule 1 with holds, under concurrency, enforced by the database: of 100
// holds for the last place at once exactly one wins; bookings without the
// hold racing the holder's booking never take the held place.
func TestConcurrentHoldsForTheLastPlace(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		id := k.slot(t, slotOpts{})
		rs := race(t, 100, func(i int) (resp, error) {
			return e.send("POST", "/v1/slot-holds", map[string]any{"slot_id": id.String()}, fromClient(i))
		})
		wantTally(t, tally(rs), map[string]int{"201": 1, "409 slot_unavailable": 99})
		var token string
		for _, r := range rs {
			if r.Status == http.StatusCreated {
				var h holdJSON
				r.decode(t, &h)
				token = h.HoldToken
			}
		}
		// The holder books while 30 others try to book without a hold.
		rs = race(t, 31, func(i int) (resp, error) {
			if i == 0 {
				return e.send("POST", "/v1/booking-requests", heldBody(id, token))
			}
			return e.send("POST", "/v1/booking-requests", requestBody(id))
		})
		if rs[0].Status != http.StatusCreated {
			t.Errorf("the holder's booking: got %d %s, want 201", rs[0].Status, rs[0].Body)
		}
		wantTally(t, tally(rs[1:]), map[string]int{"409 slot_unavailable": 30})
		checkOccupancy(t, e.Store, id)

		// Holds and bookings for a fresh last place, all at once: one wins.
		two := k.slot(t, slotOpts{})
		rs = race(t, 60, func(i int) (resp, error) {
			if i%2 == 0 {
				return e.send("POST", "/v1/slot-holds", map[string]any{"slot_id": two.String()}, fromClient(i))
			}
			return e.send("POST", "/v1/booking-requests", requestBody(two))
		})
		got := tally(rs)
		if got["201"] != 1 || got["409 slot_unavailable"] != 59 {
			t.Errorf("holds and bookings racing: got %v, want one 201 and 59 409", got)
		}
		checkOccupancy(t, e.Store, two)
		held, err := e.Store.LiveHolds(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if booked := k.booked(t, two); booked+held != 1 {
			t.Errorf("slot: booked %d + live holds %d, want 1 place taken in all", booked, held)
		}
	}, manyHolds)
}

// Holds with capacity 3: exactly three of many concurrent holds win, and a
// booking without a hold then finds the slot full.
func TestConcurrentHoldsRespectCapacity(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		id := k.slot(t, slotOpts{capacity: 3})
		k.request(t, id)
		rs := race(t, 40, func(i int) (resp, error) {
			return e.send("POST", "/v1/slot-holds", map[string]any{"slot_id": id.String()}, fromClient(i))
		})
		wantTally(t, tally(rs), map[string]int{"201": 2, "409 slot_unavailable": 38})
		if r := e.do("POST", "/v1/booking-requests", requestBody(id)); r.Status != http.StatusConflict {
			t.Errorf("booking without a hold: got %d %s, want 409", r.Status, r.Body)
		}
	}, manyHolds)
}

func TestIntakeFormRoute(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	type form struct {
		Locale    string `json:"locale"`
		Questions []struct {
			Field    string `json:"field"`
			Type     string `json:"type"`
			Label    string `json:"label"`
			ShowWhen *struct {
				Field  string `json:"field"`
				Equals bool   `json:"equals"`
			} `json:"show_when"`
			Options []struct{ Value, Label string } `json:"options"`
		} `json:"questions"`
	}
	for _, tc := range []struct {
		query, header, want string
	}{
		{"", "", "en"},
		{"?locale=es", "", "es"},
		{"", "Accept-Language: es-MX,es;q=0.9", "es"},
		{"?locale=en", "Accept-Language: es", "en"},
		{"", "Accept-Language: fr", "en"},
	} {
		var hs []string
		if tc.header != "" {
			hs = append(hs, tc.header)
		}
		r := e.do("GET", "/v1/intake-form"+tc.query, nil, hs...)
		if r.Status != http.StatusOK {
			t.Fatalf("%q %q: got %d %s", tc.query, tc.header, r.Status, r.Body)
		}
		var f form
		r.decode(t, &f)
		if f.Locale != tc.want {
			t.Errorf("%q %q: locale %q, want %q", tc.query, tc.header, f.Locale, tc.want)
		}
		want := booking.IntakeForm(tc.want)
		if len(f.Questions) != len(want) {
			t.Fatalf("%d questions, want %d", len(f.Questions), len(want))
		}
		for i, q := range f.Questions {
			if q.Field != want[i].Field || q.Label != want[i].Label || len(q.Options) != len(want[i].Options) {
				t.Errorf("question %d = %+v, want %+v", i, q, want[i])
			}
			if q.Field == "intake.activity_details" && (q.ShowWhen == nil || q.ShowWhen.Field != "intake.recent_physical_activity") {
				t.Errorf("activity_details: show_when %+v", q.ShowWhen)
			}
		}
	}
	if r := e.do("GET", "/v1/intake-form?locale=fr", nil); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("locale=fr: got %d %s, want 422", r.Status, r.Body)
	}
}

func TestBookingPolicyRoute(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) { o.Policy.HoldTTL = 5 * time.Minute })
	r := e.do("GET", "/v1/booking-policy", nil)
	if got, want := string(r.Body), `{"hold_ttl":300,"max_advance":10368000,"min_notice":7200,"patient_change_cutoff":86400}`; got != want {
		t.Errorf("policy: got %d %s, want %s", r.Status, got, want)
	}
}

func TestNextAvailability(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		// Slots far apart: "next" ignores dates, the first ones come first.
		var ids []string
		for i := range 4 {
			ids = append(ids, k.slot(t, slotOpts{start: time.Now().Add(time.Duration(3+30*i) * 24 * time.Hour).Truncate(time.Hour)}).String())
		}
		full := k.slot(t, slotOpts{start: time.Now().Add(50 * time.Hour).Truncate(time.Hour)})
		k.request(t, full)
		held := k.slot(t, slotOpts{start: time.Now().Add(51 * time.Hour).Truncate(time.Hour)})
		e.hold(t, held)
		k.slot(t, slotOpts{start: time.Now().Add(52 * time.Hour).Truncate(time.Hour), blocked: true})
		k.slot(t, slotOpts{start: time.Now().Add(200 * 24 * time.Hour)}) // beyond MAX_ADVANCE

		next := func(q string) []string {
			r := e.do("GET", "/v1/availability/next"+q, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("next%s: got %d %s", q, r.Status, r.Body)
			}
			var out struct {
				Slots []struct {
					ID       string `json:"id"`
					Timezone string `json:"timezone"`
				} `json:"slots"`
			}
			r.decode(t, &out)
			var got []string
			for _, s := range out.Slots {
				if s.Timezone != "America/Los_Angeles" {
					t.Errorf("slot %s timezone %q", s.ID, s.Timezone)
				}
				got = append(got, s.ID)
			}
			return got
		}
		if got := next(""); !slices.Equal(got, ids) {
			t.Errorf("next: got %v, want %v (the open ones, soonest first)", got, ids)
		}
		if got := next("?limit=2&consultation_type_id=" + k.reviewed.String()); !slices.Equal(got, ids[:2]) {
			t.Errorf("next limit=2: got %v, want %v", got, ids[:2])
		}
		if got := next("?consultation_type_id=" + k.instant.String()); len(got) != 0 {
			t.Errorf("next of another type: got %v, want none", got)
		}
		// Parameters that break their schema are 400 invalid_parameter.
		for _, q := range []string{"?limit=0", "?limit=51", "?provider_id=x"} {
			if r := e.do("GET", "/v1/availability/next"+q, nil); r.Status != http.StatusBadRequest {
				t.Errorf("next%s: got %d, want 400", q, r.Status)
			}
		}
	})
}

// The gauge reads the live holds from the database.
func TestSlotHoldsActiveMetric(t *testing.T) {
	c := &testClock{}
	e := newClockEnv(t, sqliteURL(t), c)
	k := newClinic(t, e)
	e.hold(t, k.slot(t, slotOpts{}))
	metric := func() string {
		r := e.do("GET", "/metrics", nil)
		for _, line := range slices.Collect(splitLines(string(r.Body))) {
			if len(line) > 18 && line[:18] == "slot_holds_active " {
				return line
			}
		}
		return ""
	}
	if got := metric(); got != "slot_holds_active 1" {
		t.Errorf("with one hold: %q, want slot_holds_active 1", got)
	}
	c.advance(11 * time.Minute)
	if got := metric(); got != "slot_holds_active 0" {
		t.Errorf("after it expired: %q, want slot_holds_active 0", got)
	}
}

func splitLines(s string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for len(s) > 0 {
			i := 0
			for i < len(s) && s[i] != '\n' {
				i++
			}
			if !yield(s[:i]) {
				return
			}
			if i < len(s) {
				i++
			}
			s = s[i:]
		}
	}
}
