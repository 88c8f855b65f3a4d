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

// offered returns the ids of the slots in days, in order, and checks each
// day's slots fall on its date in its zone.
func offered(t *testing.T, days []booking.Day) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	for _, d := range days {
		loc, err := time.LoadLocation(d.Timezone)
		if err != nil {
			t.Fatal(err)
		}
		for _, sl := range d.Slots {
			if got := booking.DateOf(sl.StartAt, loc); got != d.Date {
				t.Errorf("slot at %v listed on %s %s, but falls on %s", sl.StartAt, d.Date, d.Timezone, got)
			}
			ids = append(ids, sl.ID)
		}
	}
	return ids
}

func TestAvailabilityOffersOnlyBookableSlots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		policy := booking.Policy{MinNotice: 2 * time.Hour, MaxAdvance: 120 * 24 * time.Hour}
		now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
		f := newFixture(t, s, "UTC")
		mk := func(start time.Time, mod func(*booking.Slot)) booking.Slot {
			t.Helper()
			sl := f.slot(start, 15*time.Minute)
			if mod != nil {
				mod(&sl)
			}
			if err := s.CreateSlot(ctx, sl); err != nil {
				t.Fatalf("create slot at %v: %v", start, err)
			}
			return sl
		}
		tooSoon := mk(now.Add(2*time.Hour-15*time.Minute), nil)
		atNotice := mk(now.Add(2*time.Hour), nil)
		blocked := mk(now.Add(3*time.Hour), func(sl *booking.Slot) { sl.Status = booking.SlotBlocked })
		full := mk(now.Add(4*time.Hour), nil)
		partly := mk(now.Add(5*time.Hour), func(sl *booking.Slot) { sl.Capacity = 2 })
		atAdvance := mk(now.Add(policy.MaxAdvance), nil)
		tooFar := mk(now.Add(policy.MaxAdvance+15*time.Minute), nil)
		for id, n := range map[uuid.UUID]int{full.ID: 1, partly.ID: 1} {
			if err := store.SetSlotBooked(ctx, s, id, n); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = blocked, tooSoon
		q := store.AvailabilityQuery{Days: booking.DateRange{From: date(2030, 1, 1), To: date(2030, 1, 1)}, Policy: policy, Now: now}
		days, err := s.Availability(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := offered(t, days), []uuid.UUID{atNotice.ID, partly.ID}; !slices.Equal(got, want) {
			t.Errorf("day one: got %v, want %v (at notice, partly booked)", got, want)
		}
		if len(days) == 1 && days[0].Slots[1].Remaining() != 1 {
			t.Errorf("partly booked: remaining %d, want 1", days[0].Slots[1].Remaining())
		}
		last := booking.DateOf(now.Add(policy.MaxAdvance), time.UTC)
		q.Days = booking.DateRange{From: last, To: last}
		days, err = s.Availability(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := offered(t, days), []uuid.UUID{atAdvance.ID}; !slices.Equal(got, want) {
			t.Errorf("last day: got %v, want %v (not the one after MAX_ADVANCE %v)", got, want, tooFar.ID)
		}
	})
}

func TestAvailabilityHidesInactiveCatalogue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		start := time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)
		q := store.AvailabilityQuery{Days: booking.DateRange{From: date(2030, 1, 2), To: date(2030, 1, 2)},
			Policy: booking.DefaultPolicy(), Now: now}
		tests := []struct {
			name       string
			deactivate func(f fixture) error
		}{
			{"provider", func(f fixture) error {
				_, err := s.UpdateProvider(ctx, f.provider.ID, func(p *booking.Provider) error { p.Active = false; return nil })
				return err
			}},
			{"location", func(f fixture) error {
				_, err := s.UpdateLocation(ctx, f.location.ID, func(l *booking.Location) error { l.Active = false; return nil })
				return err
			}},
			{"consultation type", func(f fixture) error {
				_, err := s.UpdateConsultationType(ctx, f.ctype.ID, func(c *booking.ConsultationType) error { c.Active = false; return nil })
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, s, "UTC")
				sl := f.slot(start, 30*time.Minute)
				if err := s.CreateSlot(ctx, sl); err != nil {
					t.Fatal(err)
				}
				q.ProviderID = &f.provider.ID
				days, _ := s.Availability(ctx, q)
				if got := offered(t, days); !slices.Equal(got, []uuid.UUID{sl.ID}) {
					t.Fatalf("before: got %v, want %v", got, sl.ID)
				}
				if err := tt.deactivate(f); err != nil {
					t.Fatal(err)
				}
				days, _ = s.Availability(ctx, q)
				if got := offered(t, days); len(got) != 0 {
					t.Errorf("after deactivating the %s: got %v, want none", tt.name, got)
				}
			})
		}
	})
}

func TestAvailabilityGroupsByLocalDayInOneQuery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		la := newFixture(t, s, "America/Los_Angeles")
		be := newFixture(t, s, "Europe/Berlin")
		laTZ, _ := time.LoadLocation("America/Los_Angeles")
		beTZ, _ := time.LoadLocation("Europe/Berlin")
		mk := func(f fixture, start time.Time) booking.Slot {
			sl := f.slot(start, 30*time.Minute)
			if err := s.CreateSlot(ctx, sl); err != nil {
				t.Fatal(err)
			}
			return sl
		}
		laLate := mk(la, time.Date(2030, 1, 10, 23, 30, 0, 0, laTZ)) // Jan 11 in UTC
		laEarly := mk(la, time.Date(2030, 1, 10, 0, 0, 0, 0, laTZ))  // Jan 10 08:00 UTC
		beEarly := mk(be, time.Date(2030, 1, 10, 0, 0, 0, 0, beTZ))  // Jan 9 23:00 UTC
		mk(be, time.Date(2030, 1, 11, 0, 30, 0, 0, beTZ))            // Jan 10 in UTC, Jan 11 in Berlin
		mk(la, time.Date(2030, 1, 9, 23, 30, 0, 0, laTZ))            // the day before
		beLate := mk(be, time.Date(2030, 1, 10, 23, 59, 0, 0, beTZ)) // last minute of the day
		queries := store.CountQueries(s)
		days, err := s.Availability(ctx, store.AvailabilityQuery{
			Days: booking.DateRange{From: date(2030, 1, 10), To: date(2030, 1, 10)}, Policy: booking.DefaultPolicy(), Now: now,
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := queries.Load(); n != 1 {
			t.Errorf("SQL statements: got %d, want 1", n)
		}
		type dayKey struct {
			date string
			tz   string
			n    int
		}
		var got []dayKey
		for _, d := range days {
			got = append(got, dayKey{d.Date.String(), d.Timezone, len(d.Slots)})
		}
		want := []dayKey{{"2030-01-10", "America/Los_Angeles", 2}, {"2030-01-10", "Europe/Berlin", 2}}
		if !slices.Equal(got, want) {
			t.Fatalf("days: got %v, want %v", got, want)
		}
		if ids := offered(t, days); !slices.Equal(ids, []uuid.UUID{laEarly.ID, laLate.ID, beEarly.ID, beLate.ID}) {
			t.Errorf("slots: got %v, want LA early, LA late, Berlin early, Berlin late", ids)
		}
		// Filters.
		days, _ = s.Availability(ctx, store.AvailabilityQuery{
			Days: booking.DateRange{From: date(2030, 1, 10), To: date(2030, 1, 10)}, Policy: booking.DefaultPolicy(), Now: now,
			LocationID: &be.location.ID,
		})
		if ids := offered(t, days); !slices.Equal(ids, []uuid.UUID{beEarly.ID, beLate.ID}) {
			t.Errorf("location filter: got %v, want the two Berlin slots", ids)
		}
		days, _ = s.Availability(ctx, store.AvailabilityQuery{
			Days: booking.DateRange{From: date(2030, 1, 10), To: date(2030, 1, 10)}, Policy: booking.DefaultPolicy(), Now: now,
			ConsultationTypeID: &la.ctype.ID, ProviderID: &la.provider.ID,
		})
		if ids := offered(t, days); !slices.Equal(ids, []uuid.UUID{laEarly.ID, laLate.ID}) {
			t.Errorf("type and provider filter: got %v, want the two LA slots", ids)
		}
	})
}
