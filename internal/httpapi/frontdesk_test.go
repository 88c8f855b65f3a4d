package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
)

// TestFrontDeskRules walks the front-desk clock: check-in opens three hours
// before the start and closes at the end of the appointment's local day,
// no-show and complete open at the start, and a check-in or no-show can be
// reverted to confirmed, with a reason in the history, until the day ends.
func TestFrontDeskRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		la, _ := time.LoadLocation("America/Los_Angeles")
		book := func(day int) (string, time.Time, time.Time) {
			t.Helper()
			e.shift.Store(0)
			d := booking.DateOf(time.Now(), la).AddDays(day)
			start, _ := d.At(10*60, la)
			c := k.request(t, k.slot(t, slotOpts{start: start}))
			if r := e.do("POST", "/v1/bookings/"+c.ID+"/confirm", nil, rec); r.Status != http.StatusOK {
				t.Fatalf("confirm: %d %s", r.Status, r.Body)
			}
			_, dayEnd := booking.LocalDay(d, la)
			return c.ID, start.UTC(), dayEnd
		}
		type problemTimes struct {
			Code     string     `json:"code"`
			OpensAt  *time.Time `json:"opens_at"`
			ClosedAt *time.Time `json:"closed_at"`
		}
		step := func(id string, at time.Time, action string, body any, wantStatus int, wantCode string, wantAt time.Time) {
			t.Helper()
			e.travelTo(at)
			r := e.do("POST", "/v1/bookings/"+id+"/"+action, body, rec)
			if r.Status != wantStatus {
				t.Fatalf("%s at %v: got %d %s, want %d", action, at, r.Status, r.Body, wantStatus)
			}
			if wantCode == "" {
				return
			}
			var p problemTimes
			r.decode(t, &p)
			if p.Code != wantCode {
				t.Errorf("%s at %v: got code %s, want %s", action, at, p.Code, wantCode)
			}
			got := p.OpensAt
			if wantCode == "transition_no_longer_allowed" {
				got = p.ClosedAt
			}
			if !wantAt.IsZero() && (got == nil || !got.Equal(wantAt)) {
				t.Errorf("%s at %v: got time %v, want %v", action, at, got, wantAt)
			}
		}
		reason := map[string]string{"reason": "wrong patient"}

		id, start, dayEnd := book(3)
		opens := start.Add(-3 * time.Hour)
		step(id, opens.Add(-time.Minute), "check-in", nil, 409, "transition_not_yet_allowed", opens)
		step(id, start.Add(-time.Minute), "no-show", nil, 409, "transition_not_yet_allowed", start)
		step(id, opens, "check-in", nil, 200, "", time.Time{})
		step(id, start.Add(-time.Minute), "complete", nil, 409, "transition_not_yet_allowed", start)
		step(id, start.Add(-time.Minute), "revert", reason, 200, "", time.Time{})
		step(id, start.Add(time.Minute), "no-show", nil, 200, "", time.Time{})
		step(id, start.Add(2*time.Minute), "revert", reason, 200, "", time.Time{})
		step(id, start.Add(3*time.Minute), "revert", reason, 409, "invalid_transition", time.Time{})
		step(id, start.Add(4*time.Minute), "revert", map[string]string{"reason": " "}, 422, "", time.Time{})
		step(id, start.Add(5*time.Minute), "check-in", nil, 200, "", time.Time{})
		step(id, dayEnd, "revert", reason, 409, "transition_no_longer_allowed", dayEnd)
		step(id, dayEnd.Add(-time.Second), "revert", reason, 200, "", time.Time{})
		step(id, dayEnd, "check-in", nil, 409, "transition_no_longer_allowed", dayEnd)

		e.shift.Store(0)
		events := e.do("GET", "/v1/bookings/"+id+"/events", nil, rec)
		var list struct {
			Items []struct {
				Type   string  `json:"type"`
				From   *string `json:"from_status"`
				To     string  `json:"to_status"`
				Reason *string `json:"reason"`
			} `json:"items"`
		}
		events.decode(t, &list)
		var got []string
		for _, ev := range list.Items {
			got = append(got, ev.Type)
			if ev.Type == "reverted" && (ev.To != "confirmed" || ev.Reason == nil || *ev.Reason != "wrong patient") {
				t.Errorf("reverted event: got to %s reason %v, want confirmed, the reason", ev.To, ev.Reason)
			}
		}
		want := []string{"created", "confirmed", "checked_in", "reverted", "no_show", "reverted", "checked_in", "reverted"}
		if !slices.Equal(got, want) {
			t.Errorf("history: got %v, want %v", got, want)
		}
		// A refused action changed nothing: the booking is confirmed.
		var b staffBooking
		e.do("GET", "/v1/bookings/"+id, nil, rec).decode(t, &b)
		if b.Status != "confirmed" {
			t.Errorf("status: got %s, want confirmed", b.Status)
		}

		// Complete is allowed after the day closed (the paperwork may be
		// late); only check-in and revert close with the day.
		id2, start2, dayEnd2 := book(4)
		step(id2, start2.Add(-time.Hour), "check-in", nil, 200, "", time.Time{})
		step(id2, dayEnd2.Add(time.Hour), "complete", nil, 200, "", time.Time{})
		step(id2, dayEnd2.Add(time.Hour), "revert", reason, 409, "invalid_transition", time.Time{})
	})
}
