package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// TestSearchOrderWithinMillisecond books people with one name at creation
// times that tie exactly, differ by microseconds within one millisecond,
// come out of order and lie before 1970, and pages through the bookings and
// patients a search finds with several page sizes: every match once, by
// creation time then id, newest first, as the lists order them.
func TestSearchOrderWithinMillisecond(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		sl := slot(40, booking.SlotOpen)
		base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		times := []time.Time{
			// The newest of a millisecond first: the index holds a
			// millisecond's rows in the order they came.
			base.Add(5 * time.Millisecond), base.Add(400 * time.Microsecond), base.Add(999 * time.Microsecond), base, base, base, base.Add(time.Microsecond),
			base.Add(time.Millisecond), base.Add(-time.Hour), base.Add(5 * time.Millisecond), base.Add(1500 * time.Microsecond),
			time.Date(1965, 6, 1, 8, 30, 0, 250000, time.UTC), time.Date(1965, 6, 1, 8, 30, 0, 250000, time.UTC),
			base.Add(24 * time.Hour), base.Add(time.Microsecond),
		}
		type row struct {
			id      string
			created time.Time
		}
		var bookings, patients []row
		for i, at := range times {
			p := booking.PatientInput{FirstName: "Ola", LastName: "Tiebreak", DateOfBirth: fmt.Sprintf("1950-02-%02d", i+1), Phone: fmt.Sprintf("+1424555%04d", 6000+i)}
			req, err := booking.ParseRequest(requestInput(sl.ID, p), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.CreateBooking(ctx, sl.ID, func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
				b, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, at)
				return b, ev, err
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			bookings = append(bookings, row{c.Booking.ID.String(), at})
			patients = append(patients, row{c.Booking.PatientID.String(), at})
		}
		newestFirst := func(a, b row) int {
			if c := b.created.Compare(a.created); c != 0 {
				return c
			}
			return strings.Compare(b.id, a.id)
		}
		slices.SortFunc(bookings, newestFirst)
		slices.SortFunc(patients, newestFirst)
		ids := func(rows []row) []string {
			out := make([]string, len(rows))
			for i, r := range rows {
				out[i] = r.id
			}
			return out
		}
		check := func(t *testing.T) {
			for _, q := range []string{"tiebreak", "ola tieb", "Tiebreak Ola"} {
				for _, limit := range []int{1, 2, 3, 5, 50} {
					var got []string
					cur := ""
					for range 20 {
						items, next, err := s.ListBookings(ctx, store.BookingFilter{Search: booking.ParseSearch(q), Limit: limit, Cursor: cur})
						if err != nil {
							t.Fatal(err)
						}
						for _, it := range items {
							got = append(got, it.Booking.ID.String())
						}
						if cur = next; cur == "" {
							break
						}
					}
					if want := ids(bookings); !slices.Equal(got, want) {
						t.Errorf("bookings %q by %d:\n got %v\nwant %v", q, limit, got, want)
					}
					got, cur = nil, ""
					for range 20 {
						items, next, err := s.ListPatients(ctx, q, cur, limit)
						if err != nil {
							t.Fatal(err)
						}
						for _, it := range items {
							got = append(got, it.ID.String())
						}
						if cur = next; cur == "" {
							break
						}
					}
					if want := ids(patients); !slices.Equal(got, want) {
						t.Errorf("patients %q by %d:\n got %v\nwant %v", q, limit, got, want)
					}
				}
			}
		}
		t.Run("walk", check)
		// On PostgreSQL a one-word search tests the newest rows first, then
		// asks the trigram index: here the newest 3 rarely fill a page.
		store.SetWalkBudget(t, s, 3)
		t.Run("budget", check)
		// The same order as the list without a search (the bookings index).
		all, _, err := s.ListBookings(ctx, store.BookingFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var plain []string
		for _, it := range all {
			plain = append(plain, it.Booking.ID.String())
		}
		if want := ids(bookings); !slices.Equal(plain, want) {
			t.Errorf("list without a search:\n got %v\nwant %v", plain, want)
		}
	})
}

// requestInput is a valid web request for slot by p.
func requestInput(slot uuid.UUID, p booking.PatientInput) booking.RequestInput {
	sev, yes, reason := 5, true, "back pain"
	return booking.RequestInput{
		SlotID: slot.String(), Patient: p,
		Intake:  booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes},
	}
}
