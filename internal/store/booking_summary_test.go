package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// TestBookingSummaries reads the summaries of two bookings (one confirmed
// since) and an unknown id in one call: each booking as it is now, the
// unknown one left out.
func TestBookingSummaries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		who := []booking.PatientInput{
			{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: "+14245550123"},
			{FirstName: "Bo", LastName: "Kim", DateOfBirth: "1975-01-01", Phone: "+14245558888"},
		}
		made := make([]booking.Booking, len(who))
		starts := make([]time.Time, len(who))
		for i, p := range who {
			sl := slot(1, booking.SlotOpen)
			c, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, p), nil)
			if err != nil {
				t.Fatal(err)
			}
			made[i], starts[i] = c.Booking, sl.StartAt
		}
		if _, _, err := s.UpdateBooking(ctx, made[1].ID, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
			ev, err := b.Apply(booking.ActionConfirm, booking.Actor{Type: booking.ActorSystem}, "", time.Now())
			return []booking.Event{ev}, err
		}); err != nil {
			t.Fatal(err)
		}
		unknown := uuid.New()
		got, err := s.BookingSummaries(ctx, []uuid.UUID{made[0].ID, made[1].ID, unknown})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got[unknown]; ok || len(got) != 2 {
			t.Errorf("summaries of 2 bookings and an unknown id: %d found (unknown among them: %v), want the 2", len(got), ok)
		}
		for i, status := range []booking.Status{booking.StatusPending, booking.StatusConfirmed} {
			want := store.BookingSummary{ID: made[i].ID, Reference: made[i].Reference, Status: status, PatientID: made[i].PatientID,
				FirstName: who[i].FirstName, LastName: who[i].LastName, StartAt: starts[i].UTC().Truncate(time.Second), Timezone: "America/Los_Angeles"}
			if g := got[made[i].ID]; g != want || g.PatientID == uuid.Nil {
				t.Errorf("summary of %s's booking: got %+v, want %+v with a patient record", who[i].FirstName, g, want)
			}
		}
		if got, err := s.BookingSummaries(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("summaries of no bookings: %v, %v; want none", got, err)
		}
	})
}

// BenchmarkBookingSummaries measures what a page of 100 failed messages
// costs to name its bookings: BookingSummaries in one query, against
// reading each booking with its slot (what the desk did before, one
// GET /v1/bookings/{id} per message, without the HTTP).
//
//	go test ./internal/store -run '^$' -bench BookingSummaries -benchtime 200x
func BenchmarkBookingSummaries(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := storetest.Open(b, be.URL(b))
			ctx := context.Background()
			slot := catalogue(b, s)
			ids := make([]uuid.UUID, 100)
			for i := range ids {
				sl := slot(1, booking.SlotOpen)
				c, err := s.CreateBooking(ctx, sl.ID, draftFor(b, sl.ID, booking.PatientInput{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02",
					Phone: fmt.Sprintf("+1424555%04d", i)}), nil)
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = c.Booking.ID
			}
			b.Run("summaries", func(b *testing.B) {
				for b.Loop() {
					if got, err := s.BookingSummaries(ctx, ids); err != nil || len(got) != len(ids) {
						b.Fatalf("%d summaries, %v; want %d", len(got), err, len(ids))
					}
				}
			})
			b.Run("one_by_one", func(b *testing.B) {
				for b.Loop() {
					for _, id := range ids {
						if _, _, err := s.Booking(ctx, id); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		})
	}
}
