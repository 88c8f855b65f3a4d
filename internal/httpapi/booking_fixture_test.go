package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
)

// clinic is a small catalogue made straight in the store: one provider at
// one location, a consultation type that needs confirmation and one that
// does not.
type clinic struct {
	e          *env
	provider   uuid.UUID
	provider2  uuid.UUID
	location   uuid.UUID
	reviewed   uuid.UUID // requires_confirmation: web requests start pending
	instant    uuid.UUID // web requests start confirmed
	nextOffset atomic.Int64
}

func newClinic(t testing.TB, e *env) *clinic {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	k := &clinic{e: e, provider: uuid.New(), provider2: uuid.New(), location: uuid.New(), reviewed: uuid.New(), instant: uuid.New()}
	for _, p := range []uuid.UUID{k.provider, k.provider2} {
		if err := e.Store.CreateProvider(ctx, booking.Provider{ID: p, Name: "Dr. Dana Reyes", Title: "Spine surgeon", Active: true, CreatedAt: now}); err != nil {
			t.Fatalf("create provider: %v", err)
		}
	}
	if err := e.Store.CreateLocation(ctx, booking.Location{ID: k.location, Name: "Main office", Timezone: "America/Los_Angeles", Active: true, CreatedAt: now}); err != nil {
		t.Fatalf("create location: %v", err)
	}
	for id, confirm := range map[uuid.UUID]bool{k.reviewed: true, k.instant: false} {
		ct := booking.ConsultationType{ID: id, Name: "New patient consultation", DurationMinutes: 45, RequiresConfirmation: confirm, Active: true, CreatedAt: now}
		if err := e.Store.CreateConsultationType(ctx, ct); err != nil {
			t.Fatalf("create consultation type: %v", err)
		}
	}
	return k
}

// slotOpts adjusts a slot before it is created.
type slotOpts struct {
	start    time.Time // default: a fresh hour three days or more ahead
	capacity int       // default 1
	typeID   uuid.UUID // default reviewed
	provider uuid.UUID // default provider
	blocked  bool
}

// slot creates a slot and returns its id.
func (k *clinic) slot(t testing.TB, o slotOpts) uuid.UUID {
	t.Helper()
	if o.start.IsZero() {
		// Each slot gets its own hour, so no two overlap for one provider.
		n := k.nextOffset.Add(1)
		o.start = time.Now().Add(72 * time.Hour).Truncate(time.Hour).Add(time.Duration(n) * time.Hour)
	}
	if o.capacity == 0 {
		o.capacity = 1
	}
	if o.typeID == uuid.Nil {
		o.typeID = k.reviewed
	}
	if o.provider == uuid.Nil {
		o.provider = k.provider
	}
	sl := booking.Slot{
		ID: uuid.New(), ProviderID: o.provider, LocationID: k.location, ConsultationTypeID: o.typeID,
		StartAt: o.start.UTC().Truncate(time.Second), EndAt: o.start.UTC().Truncate(time.Second).Add(45 * time.Minute),
		Capacity: o.capacity, Status: booking.SlotOpen, CreatedAt: time.Now(),
	}
	if o.blocked {
		sl.Status = booking.SlotBlocked
	}
	if err := k.e.Store.CreateSlot(context.Background(), sl); err != nil {
		t.Fatalf("create slot: %v", err)
	}
	return sl.ID
}

// startOf returns the slot's start.
func (k *clinic) startOf(t testing.TB, id uuid.UUID) time.Time {
	t.Helper()
	sl, err := k.e.Store.Slot(context.Background(), id)
	if err != nil {
		t.Fatalf("slot: %v", err)
	}
	return sl.StartAt
}

// booked returns the slot's booked counter as the store keeps it.
func (k *clinic) booked(t testing.TB, id uuid.UUID) int {
	t.Helper()
	sl, err := k.e.Store.Slot(context.Background(), id)
	if err != nil {
		t.Fatalf("slot: %v", err)
	}
	return sl.Booked
}

// requestBody is a valid booking request for slot.
func requestBody(slot uuid.UUID) map[string]any {
	return map[string]any{
		"slot_id": slot.String(),
		"patient": map[string]any{
			"first_name": "Ana", "last_name": "Lopez", "date_of_birth": "1980-04-02",
			"phone": "+14245550123", "email": "ana@example.com",
		},
		"intake": map[string]any{
			"red_flags": []string{"none"}, "pain_severity": 7, "relieved_by": []string{"heat_or_ice", "position"},
			"pain_started_on": "2026-11-01", "pre_existing_conditions": []string{"herniated_disc"},
			"spasm_frequency": "daily", "recent_physical_activity": true,
			"activity_details": "moved house", "reason": "lower back spasms",
		},
		"consent": map[string]any{"privacy_policy_accepted": true, "contact_by_sms": true, "contact_by_email": true},
	}
}

// with returns a copy of body with path ("patient.email") set to v, or
// removed when v is the remove marker.
func with(body map[string]any, path string, v any) map[string]any {
	cp := map[string]any{}
	b, _ := json.Marshal(body)
	_ = json.Unmarshal(b, &cp)
	m := cp
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	if v == remove {
		delete(m, parts[len(parts)-1])
	} else {
		m[parts[len(parts)-1]] = v
	}
	return cp
}

type removeMarker struct{}

var remove = removeMarker{}

// created is the 201 of a booking request.
type created struct {
	ID          string `json:"id"`
	Reference   string `json:"reference"`
	Status      string `json:"status"`
	ManageToken string `json:"manage_token"`
	Slot        struct {
		ID string `json:"id"`
	} `json:"slot"`
}

// staffBooking is the parts of the staff view tests look at.
type staffBooking struct {
	ID                 string  `json:"id"`
	Reference          string  `json:"reference"`
	Status             string  `json:"status"`
	Source             string  `json:"source"`
	Notes              string  `json:"notes"`
	Version            int     `json:"version"`
	CancellationReason *string `json:"cancellation_reason"`
	Slot               struct {
		ID string `json:"id"`
	} `json:"slot"`
	Patient struct {
		Phone string  `json:"phone"`
		Email *string `json:"email"`
	} `json:"patient"`
}

// request books slot through the public endpoint and fails the test
// unless it answers 201.
func (k *clinic) request(t testing.TB, slot uuid.UUID) created {
	t.Helper()
	r := k.e.do("POST", "/v1/booking-requests", requestBody(slot))
	if r.Status != http.StatusCreated {
		t.Fatalf("booking request: got %d %s, want 201", r.Status, r.Body)
	}
	var c created
	r.decode(t, &c)
	return c
}

// send is do for other goroutines: it returns transport errors instead of
// failing the test (which only the test's goroutine may do).
func (e *env) send(method, path string, body any, headers ...string) (resp, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return resp{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.URL+path, rd)
	if err != nil {
		return resp{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := e.client.Do(req)
	if err != nil {
		return resp{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return resp{}, err
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// noRateLimit turns the public limiter off, for tests that send bursts.
func noRateLimit(o *httpapi.Options, _ *auth.Options) { o.PublicRateLimit = 0 }

// token returns the X-Booking-Token header for a created request.
func (c created) token() string { return "X-Booking-Token: " + c.ManageToken }
