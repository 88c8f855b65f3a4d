package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// version waits (on PostgreSQL, for the listener to connect) and returns
// the store's AvailabilityVersion.
func version(t *testing.T, s *store.Store) uint64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, ok := s.AvailabilityVersion()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatal("AvailabilityVersion: still not ok after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Every kind of write that can change what Availability returns moves the
// version before the writing call returns; reads do not.
func TestAvailabilityVersionMovesOnEveryWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "America/Los_Angeles")
		start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
		sl := f.slot(start, 30*time.Minute)
		sl.Capacity = 2
		other := f.slot(start.Add(time.Hour), 30*time.Minute)
		spare := f.slot(start.Add(2*time.Hour), 30*time.Minute)
		draft := func(slot uuid.UUID) store.Draft {
			req := validRequest(t, slot)
			return func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
				b, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, time.Now())
				return b, ev, err
			}
		}
		var bookingID uuid.UUID
		apply := func(a booking.Action) func() error {
			return func() error {
				_, _, err := s.UpdateBooking(ctx, bookingID, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
					ev, err := b.Apply(a, booking.Actor{Type: booking.ActorSystem}, "", time.Now())
					return []booking.Event{ev}, err
				})
				return err
			}
		}
		blocked, open, three := booking.SlotBlocked, booking.SlotOpen, 3
		sc := f.schedule(booking.DateOf(start, time.UTC), booking.DateOf(start, time.UTC).AddDays(7))
		sc.Windows = sc.Windows[:1]
		sc.Windows[0].Start, sc.Windows[0].End = 6*60, 7*60 // before the other slots
		writes := []struct {
			name  string
			write func() error
		}{
			{"create slot", func() error { return s.CreateSlot(ctx, sl) }},
			{"create another slot", func() error { return s.CreateSlot(ctx, other) }},
			{"create a spare slot", func() error { return s.CreateSlot(ctx, spare) }},
			{"block slot", func() error { _, err := s.UpdateSlot(ctx, sl.ID, store.SlotPatch{Status: &blocked}); return err }},
			{"reopen slot", func() error { _, err := s.UpdateSlot(ctx, sl.ID, store.SlotPatch{Status: &open}); return err }},
			{"change capacity", func() error { _, err := s.UpdateSlot(ctx, sl.ID, store.SlotPatch{Capacity: &three}); return err }},
			{"book a place", func() error {
				res, err := s.CreateBooking(ctx, sl.ID, draft(sl.ID), nil)
				bookingID = res.Booking.ID
				return err
			}},
			{"reschedule", func() error {
				_, _, err := s.RescheduleBooking(ctx, bookingID, other.ID, func(b *booking.Booking, _ booking.Slot, _ booking.SlotInfo) ([]booking.Event, error) {
					ev, err := b.Reschedule(other.ID, booking.Actor{Type: booking.ActorSystem}, time.Now())
					return []booking.Event{ev}, err
				})
				return err
			}},
			{"decline (releases the place)", apply(booking.ActionDecline)},
			{"book and expire", func() error {
				res, err := s.CreateBooking(ctx, sl.ID, draft(sl.ID), nil)
				if err != nil {
					return err
				}
				bookingID = res.Booking.ID
				_, err = s.ExpirePending(ctx, time.Now().Add(time.Minute), time.Now())
				return err
			}},
			{"delete slot", func() error { return s.DeleteSlot(ctx, spare.ID) }},
			{"create and generate schedule", func() error {
				if err := s.CreateSchedule(ctx, sc); err != nil {
					return err
				}
				_, err := s.GenerateSlots(ctx, sc.ID, sc.ValidFrom, *sc.ValidTo, time.Now())
				return err
			}},
			{"deactivate provider", func() error {
				_, err := s.UpdateProvider(ctx, f.provider.ID, func(p *booking.Provider) error { p.Active = false; return nil })
				return err
			}},
			{"deactivate location", func() error {
				_, err := s.UpdateLocation(ctx, f.location.ID, func(l *booking.Location) error { l.Active = false; return nil })
				return err
			}},
			{"deactivate consultation type", func() error {
				_, err := s.UpdateConsultationType(ctx, f.ctype.ID, func(c *booking.ConsultationType) error { c.Active = false; return nil })
				return err
			}},
			{"create provider", func() error {
				return s.CreateProvider(ctx, booking.Provider{ID: uuid.New(), Name: "Dr. New", Active: true, CreatedAt: time.Now()})
			}},
		}
		for _, w := range writes {
			before := version(t, s)
			if err := w.write(); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			if after := version(t, s); after == before {
				t.Errorf("%s: version stayed %d", w.name, before)
			}
		}
		if s.Dialect() != store.SQLite {
			return // on PostgreSQL other tests' writes to the same database move it too
		}
		// The commit counter that sees other processes' writes (this one's
		// too) is read at most once a millisecond: let it settle on the
		// writes above first.
		time.Sleep(5 * time.Millisecond)
		version(t, s)
		before := version(t, s)
		q := store.AvailabilityQuery{Days: booking.DateRange{From: booking.DateOf(start, time.UTC), To: booking.DateOf(start, time.UTC).AddDays(7)},
			Policy: booking.DefaultPolicy(), Now: time.Now()}
		if _, err := s.Availability(ctx, q); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Slot(ctx, sl.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ListBookings(ctx, store.BookingFilter{}); err != nil {
			t.Fatal(err)
		}
		if after := version(t, s); after != before {
			t.Errorf("reads moved the version from %d to %d", before, after)
		}
	})
}

// Two stores on one database are two server instances: a write through one
// moves the other's version, on SQLite within a millisecond, on PostgreSQL
// once the notification arrives.
func TestAvailabilityVersionAcrossInstances(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			url := be.URL(t)
			a, b := storetest.Open(t, url), storetest.Open(t, url)
			ctx := context.Background()
			f := newFixture(t, a, "UTC")
			before := version(t, b)
			if err := a.CreateSlot(ctx, f.slot(time.Now().Add(72*time.Hour), time.Hour)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for version(t, b) == before {
				if time.Now().After(deadline) {
					t.Fatal("the other instance's version did not move within 5s of the write")
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// An answer holds until its first slot leaves the booking window or a slot
// of its range enters it, and not a moment longer.
func TestAvailabilityValidUntil(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		now := time.Now().UTC().Truncate(time.Second)
		policy := booking.Policy{MinNotice: 2 * time.Hour, MaxAdvance: 10 * 24 * time.Hour}
		q := store.AvailabilityQuery{
			Days:   booking.DateRange{From: booking.DateOf(now, time.UTC), To: booking.DateOf(now, time.UTC).AddDays(12)},
			Policy: policy, Now: now,
		}
		check := func(t *testing.T, want time.Time) {
			t.Helper()
			days, err := s.Availability(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			until, err := s.AvailabilityValidUntil(ctx, q, days)
			if err != nil {
				t.Fatal(err)
			}
			if !until.Equal(want) {
				t.Fatalf("valid until %v, want %v", until, want)
			}
			// The answer is the same at until, and differs just after.
			at := func(now time.Time) []uuid.UUID {
				q := q
				q.Now = now
				d, err := s.Availability(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				return offered(t, d)
			}
			if got := at(until); !slices.Equal(got, offered(t, days)) {
				t.Errorf("at until: got %v, want %v", got, offered(t, days))
			}
			if got := at(until.Add(time.Second)); slices.Equal(got, offered(t, days)) {
				t.Errorf("a second after until: still %v", got)
			}
		}
		// Nothing in range: the answer holds until a slot is made.
		if days, err := s.Availability(ctx, q); err != nil {
			t.Fatal(err)
		} else if until, err := s.AvailabilityValidUntil(ctx, q, days); err != nil || !until.IsZero() {
			t.Fatalf("empty: got %v %v, want the zero time", until, err)
		}
		soon := f.slot(now.Add(5*time.Hour), 30*time.Minute)
		if err := s.CreateSlot(ctx, soon); err != nil {
			t.Fatal(err)
		}
		t.Run("leaves", func(t *testing.T) { check(t, soon.StartAt.Add(-policy.MinNotice)) })
		far := f.slot(now.Add(policy.MaxAdvance+time.Hour), 30*time.Minute)
		if err := s.CreateSlot(ctx, far); err != nil {
			t.Fatal(err)
		}
		t.Run("enters", func(t *testing.T) { check(t, far.StartAt.Add(-policy.MaxAdvance-time.Nanosecond)) })
	})
}

// TestInvalidateAvailability: an explicit invalidation moves the version at
// once outside a transaction.
func TestInvalidateAvailability(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		before := version(t, s)
		s.InvalidateAvailability(context.Background(), uuid.New())
		if after := version(t, s); after == before {
			t.Errorf("version: got %d after invalidating, want a change from %d", after, before)
		}
	})
}
