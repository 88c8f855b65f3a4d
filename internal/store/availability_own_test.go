package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// A place change is read once by each instance: the writing one after its
// commit, before the call returns (on PostgreSQL it then skips the NOTIFY
// of its own commit), the other one when it learns of it. A change
// committed by another process (the other instance, a maintenance script)
// is still read by the instance that did not write it.
func TestPlaceChangeReadOncePerInstance(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			url := be.URL(t)
			a, b := storetest.Open(t, url), storetest.Open(t, url)
			ctx := context.Background()
			f := newFixture(t, a, "UTC")
			sl := f.slot(time.Now().Add(72*time.Hour).Truncate(time.Hour), time.Hour)
			sl.Capacity = 3
			if err := a.CreateSlot(ctx, sl); err != nil {
				t.Fatal(err)
			}
			var seenA, seenB atomic.Int64
			count := func(n *atomic.Int64) func([]store.SlotPlaces) bool {
				return func(ps []store.SlotPlaces) bool {
					for _, p := range ps {
						if p.ID == sl.ID {
							n.Add(1)
						}
					}
					return true
				}
			}
			a.OnPlaces(count(&seenA))
			b.OnPlaces(count(&seenB))
			settle(t, a)
			settle(t, b)
			book := func(s *store.Store) {
				t.Helper()
				_, err := s.CreateBooking(ctx, sl.ID, func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
					bk, ev, _, err := booking.NewBooking(validRequest(t, sl.ID), booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, time.Now())
					return bk, ev, err
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
			}
			// await asks s as a reader would (the SQLite watch looks when
			// asked) until n reaches want, then as long again as a second
			// read would take, were there one.
			await := func(what string, s *store.Store, n *atomic.Int64, want int64) {
				t.Helper()
				deadline := time.Now().Add(5 * time.Second)
				for n.Load() < want && time.Now().Before(deadline) {
					s.AvailabilityVersion(store.AvailabilityQuery{})
					time.Sleep(time.Millisecond)
				}
				for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
					s.AvailabilityVersion(store.AvailabilityQuery{})
					time.Sleep(5 * time.Millisecond)
				}
				if got := n.Load(); got != want {
					t.Errorf("%s: read %d times, want %d", what, got, want)
				}
			}
			for _, step := range []struct {
				name             string
				write            func()
				wantA, wantB     int64
				writerHasItFirst *atomic.Int64
			}{
				{"booked on a", func() { book(a) }, 1, 1, &seenA},
				{"booked on b", func() { book(b) }, 2, 2, &seenB},
				{"a script's booking", func() {
					if err := rawExec(t, url, "UPDATE slots SET booked = booked + 1 WHERE id = ?", sl.ID.String()); err != nil {
						t.Fatal(err)
					}
				}, 3, 3, nil},
			} {
				before := int64(0)
				if step.writerHasItFirst != nil {
					before = step.writerHasItFirst.Load()
				}
				step.write()
				if w := step.writerHasItFirst; w != nil && w.Load() == before {
					t.Errorf("%s: the writing instance had not read the change when the call returned", step.name)
				}
				await(step.name+", instance a", a, &seenA, step.wantA)
				await(step.name+", instance b", b, &seenB, step.wantB)
			}
		})
	}
}
