package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// A hold is a write that moves the availability version, and an answer
// that a live hold shapes holds only until that hold expires: the cache
// needs no job to give the place back.
func TestHoldsAndTheAvailabilityCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		now := time.Now().UTC().Truncate(time.Second)
		policy := booking.Policy{MinNotice: 2 * time.Hour, MaxAdvance: 10 * 24 * time.Hour}
		sl := f.slot(now.Add(8*time.Hour), 30*time.Minute)
		if err := s.CreateSlot(ctx, sl); err != nil {
			t.Fatal(err)
		}
		q := store.AvailabilityQuery{
			Days:   booking.DateRange{From: booking.DateOf(now, time.UTC), To: booking.DateOf(now, time.UTC).AddDays(2)},
			Policy: policy, Now: now,
		}
		before, _ := s.AvailabilityVersion(store.AvailabilityQuery{})
		expires := now.Add(10 * time.Minute)
		h, err := s.CreateHold(ctx, store.NewHold{
			SlotID: sl.ID, TokenHash: booking.HashToken("t"), ClientHash: "c", Limit: 2, ExpiresAt: expires,
			Check: func(info booking.SlotInfo) error { return policy.PublicHoldable(info, now) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if h.SlotID != sl.ID || !h.ExpiresAt.Equal(expires) {
			t.Errorf("hold = %+v", h)
		}
		if after, ok := s.AvailabilityVersion(store.AvailabilityQuery{}); ok && after == before {
			t.Errorf("availability version %d unchanged by a hold", after)
		}
		days, err := s.Availability(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got := offered(t, days); slices.Contains(got, sl.ID) {
			t.Fatalf("held slot offered: %v", got)
		}
		until, err := s.AvailabilityValidUntil(ctx, q, days)
		if err != nil {
			t.Fatal(err)
		}
		if want := expires.Add(-time.Nanosecond); !until.Equal(want) {
			t.Errorf("valid until %v, want %v (just before the hold expires)", until, want)
		}
		at := func(when time.Time) []uuid.UUID {
			q := q
			q.Now = when
			d, err := s.Availability(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return offered(t, d)
		}
		if got := at(until); slices.Contains(got, sl.ID) {
			t.Errorf("at until: offered %v", got)
		}
		if got := at(expires); !slices.Contains(got, sl.ID) {
			t.Errorf("once the hold expired: %v, want the slot offered", got)
		}
		// A second hold on the full slot is refused; an unknown slot is a
		// validation error naming slot_id.
		_, err = s.CreateHold(ctx, store.NewHold{SlotID: sl.ID, TokenHash: "x", ClientHash: "d", Limit: 2, ExpiresAt: expires,
			Check: func(booking.SlotInfo) error { return nil }})
		if !errors.Is(err, booking.ErrSlotUnavailable) {
			t.Errorf("second hold: %v, want ErrSlotUnavailable", err)
		}
		var ve *booking.ValidationError
		if _, err := s.CreateHold(ctx, store.NewHold{SlotID: uuid.New(), TokenHash: "y", ClientHash: "e", Limit: 2, ExpiresAt: expires,
			Check: func(booking.SlotInfo) error { return nil }}); !errors.As(err, &ve) {
			t.Errorf("unknown slot: %v, want a validation error", err)
		}
	})
}
