package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
)

// perPatient sets MAX_LIVE_PER_PATIENT and lifts the per-address limits,
// believing X-Forwarded-For from the test client.
func perPatient(n int) envOption {
	return func(o *httpapi.Options, _ *auth.Options) {
		o.Policy.MaxLivePerPatient = n
		o.PublicRateLimit = 0
		o.PublicHoldLimit = 1000
		o.TrustedProxies = []string{"127.0.0.1"}
	}
}

// limitProblem is the body of a patient_limit_reached problem.
type limitProblem struct {
	Code  string `json:"code"`
	Limit *int   `json:"limit"`
}

// One person cannot empty the calendar: their online requests stop at
// MAX_LIVE_PER_PATIENT, counted by email and by phone each, from any
// address and with or without a hold, while staff may still book them.
func TestPatientLimitOnline(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		for i := range 3 {
			if r := e.do("POST", "/v1/booking-requests", requestBody(k.slot(t, slotOpts{})), fromClient(i)); r.Status != http.StatusCreated {
				t.Fatalf("request %d: got %d %s, want 201", i+1, r.Status, r.Body)
			}
		}
		body := requestBody(k.slot(t, slotOpts{}))
		for _, tc := range []struct {
			name string
			body map[string]any
			want string
		}{
			{"the same patient again", body, "409 patient_limit_reached"},
			{"the same phone, another email", with(body, "patient.email", "someone.else@example.com"), "409 patient_limit_reached"},
			{"the same email, another phone", with(body, "patient.phone", "+14245559999"), "409 patient_limit_reached"},
			{"the same phone, no email", with(body, "patient.email", remove), "409 patient_limit_reached"},
			{"the same email in capitals, another phone", with(with(body, "patient.phone", "+14245559998"), "patient.email", "ANA@Example.COM"), "409 patient_limit_reached"},
			{"another person", with(with(body, "patient.phone", "+14245559997"), "patient.email", "bo@example.com"), "201"},
		} {
			r := e.do("POST", "/v1/booking-requests", tc.body, fromClient(50))
			if got := tally([]resp{r}); got[tc.want] != 1 {
				t.Errorf("%s: got %d %s, want %s", tc.name, r.Status, r.Body, tc.want)
				continue
			}
			if r.Status == http.StatusConflict {
				var p limitProblem
				r.decode(t, &p)
				if p.Limit == nil || *p.Limit != 3 {
					t.Errorf("%s: limit got %v, want 3", tc.name, p.Limit)
				}
			}
		}
		// A place held for the patient does not lift the limit.
		held := k.slot(t, slotOpts{})
		h := e.hold(t, held)
		if r := e.do("POST", "/v1/booking-requests", heldBody(held, h.HoldToken)); r.code() != "patient_limit_reached" {
			t.Errorf("booking a held place: got %d %s, want 409 patient_limit_reached", r.Status, r.Body)
		}
		// Staff may still book the patient.
		k.staffBook(t, e.token(auth.RoleReception), requestBody(k.slot(t, slotOpts{})))
	}, perPatient(3))
}

// Many requests for one patient at once, each for its own slot from its own
// address, create MAX_LIVE_PER_PATIENT bookings and no more.
func TestPatientLimitUnderConcurrentRequests(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		slots := make([]uuid.UUID, 20)
		for i := range slots {
			slots[i] = k.slot(t, slotOpts{})
		}
		rs := race(t, len(slots), func(i int) (resp, error) {
			return e.send("POST", "/v1/booking-requests", requestBody(slots[i]), fromClient(i))
		})
		wantTally(t, tally(rs), map[string]int{"201": 3, "409 patient_limit_reached": 17})
		checkOccupancy(t, e.Store, slots...)
	}, perPatient(3))
}

// MAX_LIVE_PER_PATIENT=0 turns the limit off.
func TestPatientLimitOff(t *testing.T) {
	e := newEnv(t, sqliteURL(t), perPatient(0))
	k := newClinic(t, e)
	for i := range 6 {
		if r := e.do("POST", "/v1/booking-requests", requestBody(k.slot(t, slotOpts{})), fromClient(i)); r.Status != http.StatusCreated {
			t.Fatalf("request %d with no limit: got %d %s, want 201", i+1, r.Status, r.Body)
		}
	}
}

// Staff decline every pending request of one patient in one call; each is
// an ordinary decline (history, reason, place freed), other bookings stay.
func TestDeclinePatientPending(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		var slots []uuid.UUID
		var pending []string
		for range 3 {
			sl := k.slot(t, slotOpts{})
			slots = append(slots, sl)
			pending = append(pending, k.request(t, sl).ID)
		}
		confirmed := k.staffBook(t, rec, requestBody(k.slot(t, slotOpts{})))
		other := e.do("POST", "/v1/booking-requests", with(with(requestBody(k.slot(t, slotOpts{})), "patient.phone", "+14245559997"), "patient.email", "bo@example.com"))
		if other.Status != http.StatusCreated {
			t.Fatalf("another patient's request: got %d %s", other.Status, other.Body)
		}
		var otherC created
		other.decode(t, &otherC)

		b, _, err := e.Store.Booking(context.Background(), uuid.MustParse(pending[0]))
		if err != nil || b.PatientID == uuid.Nil {
			t.Fatalf("booking's patient: %v %v", b.PatientID, err)
		}
		path := "/v1/patients/" + b.PatientID.String() + "/decline-pending"
		reason := map[string]string{"reason": "Please call us to book"}

		for _, tc := range []struct {
			name   string
			body   any
			authz  string
			path   string
			status int
		}{
			{"clinician", reason, e.token(auth.RoleClinician), path, http.StatusForbidden},
			{"no token", reason, "", path, http.StatusUnauthorized},
			{"no reason", map[string]string{}, rec, path, http.StatusUnprocessableEntity},
			{"blank reason", map[string]string{"reason": "   "}, rec, path, http.StatusUnprocessableEntity},
			{"unknown patient", reason, rec, "/v1/patients/" + uuid.NewString() + "/decline-pending", http.StatusNotFound},
		} {
			if r := e.do("POST", tc.path, tc.body, tc.authz); r.Status != tc.status {
				t.Errorf("%s: got %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			}
		}

		r := e.do("POST", path, reason, rec)
		if r.Status != http.StatusOK {
			t.Fatalf("decline pending: got %d %s, want 200", r.Status, r.Body)
		}
		var out struct {
			Declined []staffBooking `json:"declined"`
		}
		r.decode(t, &out)
		var got []string
		for _, d := range out.Declined {
			got = append(got, d.ID)
			if d.Status != "declined" || d.CancellationReason == nil || *d.CancellationReason != "Please call us to book" {
				t.Errorf("declined booking %s: status %s, reason %v", d.ID, d.Status, d.CancellationReason)
			}
		}
		if gj, wj := mustJSON(got), mustJSON(pending); gj != wj {
			t.Errorf("declined: got %s, want %s (oldest first)", gj, wj)
		}
		for _, sl := range slots {
			if n := k.booked(t, sl); n != 0 {
				t.Errorf("slot %s: booked %d after the decline, want 0", sl, n)
			}
		}
		events, err := e.Store.BookingEvents(context.Background(), uuid.MustParse(pending[1]))
		if err != nil {
			t.Fatal(err)
		}
		last := events[len(events)-1]
		if last.Type != booking.EventDeclined || last.Reason != "Please call us to book" || last.Actor.Type != booking.ActorStaff {
			t.Errorf("last event: got %+v, want a staff decline with the reason", last)
		}
		for id, want := range map[string]booking.Status{confirmed.ID: booking.StatusConfirmed, otherC.ID: booking.StatusPending} {
			b, _, err := e.Store.Booking(context.Background(), uuid.MustParse(id))
			if err != nil || b.Status != want {
				t.Errorf("booking %s: got %s (%v), want %s untouched", id, b.Status, err, want)
			}
		}
		// Nothing left to decline: an empty list.
		r = e.do("POST", path, reason, rec)
		r.decode(t, &out)
		if r.Status != http.StatusOK || len(out.Declined) != 0 {
			t.Errorf("second call: got %d %s, want 200 with none declined", r.Status, r.Body)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
