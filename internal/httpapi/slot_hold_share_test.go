package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// holdShare sets HOLD_MAX_SHARE, two holds per address, no rate limit, and
// believes X-Forwarded-For from the test client.
func holdShare(share float64) envOption {
	return func(o *httpapi.Options, _ *auth.Options) {
		o.Policy.HoldMaxShare = share
		o.PublicHoldLimit = 2
		o.PublicRateLimit = 0
		o.TrustedProxies = []string{"127.0.0.1", "::1"}
	}
}

// weekOfSlots makes days × perDay one-place slots for the provider, at
// 09:00, 10:00... local time on consecutive days from four days ahead, and
// returns them by day.
func weekOfSlots(t *testing.T, k *clinic, days, perDay int) [][]uuid.UUID {
	t.Helper()
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	first := time.Now().In(loc).AddDate(0, 0, 4)
	out := make([][]uuid.UUID, days)
	for d := range days {
		y, m, dd := first.AddDate(0, 0, d).Date()
		for h := range perDay {
			out[d] = append(out[d], k.slot(t, slotOpts{start: time.Date(y, m, dd, 9+h, 0, 0, 0, loc)}))
		}
	}
	return out
}

// Twenty addresses holding two places each, all at once, on a week of
// forty places: the live holds of each provider's day keep at most
// HOLD_MAX_SHARE of its free places, the rest stay bookable, and a refused
// hold says when to retry.
func TestHoldsKeepAShareOfTheDay(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		week := weekOfSlots(t, k, 5, 8)
		var all []uuid.UUID
		for _, day := range week {
			all = append(all, day...)
		}
		rs := race(t, len(all), func(i int) (resp, error) {
			// Address i/2 holds slots i and i+1: two a client, twenty clients.
			return e.send("POST", "/v1/slot-holds", map[string]any{"slot_id": all[i].String()}, fromClient(i/2))
		})
		wantTally(t, tally(rs), map[string]int{"201": 20, "409 hold_share_reached": 20})
		for d, day := range week {
			held := 0
			for j := range day {
				if rs[d*8+j].Status == http.StatusCreated {
					held++
				}
			}
			if held != 4 {
				t.Errorf("day %d: %d of 8 free places held, want 4 (half)", d+1, held)
			}
		}
		for _, r := range rs {
			if r.Status != http.StatusConflict {
				continue
			}
			if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 600 {
				t.Errorf("hold_share_reached: Retry-After %q, want 1 to 600 seconds", r.Header.Get("Retry-After"))
			}
			break
		}
		// Every place not held can still be booked, without a hold.
		booked := 0
		for i, r := range rs {
			if r.Status == http.StatusConflict {
				if b := e.do("POST", "/v1/booking-requests", requestBody(all[i])); b.Status != http.StatusCreated {
					t.Errorf("booking a place left free: got %d %s, want 201", b.Status, b.Body)
				}
				booked++
			}
		}
		if booked != 20 {
			t.Errorf("booked %d places without a hold, want 20", booked)
		}
	}, holdShare(0.5))
}

// The share counts the day's free places: booked places are not shared,
// and a day's last free place can still be held.
func TestHoldShareCountsFreePlaces(t *testing.T) {
	e := newEnv(t, sqliteURL(t), holdShare(0.5))
	k := newClinic(t, e)
	day := weekOfSlots(t, k, 1, 6)[0]
	for _, sl := range day[:2] {
		k.request(t, sl)
	}
	// Four free places: two holds.
	for i, sl := range day[2:] {
		r := e.do("POST", "/v1/slot-holds", map[string]any{"slot_id": sl.String()}, fromClient(i))
		want := http.StatusCreated
		if i >= 2 {
			want = http.StatusConflict
		}
		if r.Status != want {
			t.Errorf("hold %d with 4 free places: got %d %s, want %d", i+1, r.Status, r.Body, want)
		}
	}
	lone := k.slot(t, slotOpts{start: time.Now().Add(100 * 24 * time.Hour)})
	if r := e.do("POST", "/v1/slot-holds", map[string]any{"slot_id": lone.String()}, fromClient(9)); r.Status != http.StatusCreated {
		t.Errorf("the only free place of a day: got %d %s, want 201", r.Status, r.Body)
	}
}
