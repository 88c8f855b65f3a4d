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

// The staff window offers every open place of a slot that has not ended,
// whatever the notice and the advance, and nothing else: an ended slot
// neither shows nor uses up NextAvailable's limit, and a slot of the
// longest length that started almost that long ago is still found.
func TestStaffWindowOffersPlacesNotEnded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		policy := booking.Policy{MinNotice: 2 * time.Hour, MaxAdvance: 120 * 24 * time.Hour}
		now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
		f, g, h := newFixture(t, s, "UTC"), newFixture(t, s, "UTC"), newFixture(t, s, "UTC")
		mk := func(f fixture, start time.Time, d time.Duration, mod func(*booking.Slot)) uuid.UUID {
			t.Helper()
			sl := f.slot(start, d)
			if mod != nil {
				mod(&sl)
			}
			if err := s.CreateSlot(ctx, sl); err != nil {
				t.Fatalf("create slot at %v: %v", start, err)
			}
			return sl.ID
		}
		const q = 15 * time.Minute
		ended := mk(f, now.Add(-2*time.Hour), q, nil)
		endingNow := mk(f, now.Add(-q), q, nil)
		running := mk(h, now.Add(-5*time.Minute), q, nil) // another provider: endingNow has the time
		full := mk(f, now.Add(30*time.Minute), q, nil)
		blocked := mk(f, now.Add(time.Hour), q, func(sl *booking.Slot) { sl.Status = booking.SlotBlocked })
		inNotice := mk(f, now.Add(90*time.Minute), q, nil)
		public := mk(f, now.Add(3*time.Hour), q, nil)
		tooFar := mk(f, now.Add(policy.MaxAdvance+time.Hour), q, nil)
		// The other provider's working-day slot, started 11h59m ago.
		longRunning := mk(g, now.Add(-booking.MaxSlotLength+time.Minute), booking.MaxSlotLength, nil)
		if err := store.SetSlotBooked(ctx, s, full, 1); err != nil {
			t.Fatal(err)
		}
		_, _, _ = ended, endingNow, blocked

		day := booking.DateRange{From: date(2030, 1, 1), To: date(2030, 1, 1)}
		for _, tt := range []struct {
			name   string
			window booking.OfferWindow
			want   []uuid.UUID
		}{
			{"public", booking.PublicWindow, []uuid.UUID{public}},
			{"unset is public", "", []uuid.UUID{public}},
			{"staff", booking.StaffWindow, []uuid.UUID{longRunning, running, inNotice, public}},
		} {
			days, err := s.Availability(ctx, store.AvailabilityQuery{Days: day, Policy: policy, Window: tt.window, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if got := offered(t, days); !slices.Equal(got, tt.want) {
				t.Errorf("availability, %s: got %v, want %v", tt.name, got, tt.want)
			}
		}
		for _, tt := range []struct {
			name   string
			window booking.OfferWindow
			limit  int
			want   []uuid.UUID
		}{
			{"public", booking.PublicWindow, 10, []uuid.UUID{public}},
			{"staff", booking.StaffWindow, 10, []uuid.UUID{longRunning, running, inNotice, public, tooFar}},
			{"staff, the first two", booking.StaffWindow, 2, []uuid.UUID{longRunning, running}},
		} {
			next, err := s.NextAvailable(ctx, store.NextQuery{Policy: policy, Window: tt.window, Now: now, Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			var got []uuid.UUID
			for _, n := range next {
				got = append(got, n.Slot.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("next, %s: got %v, want %v", tt.name, got, tt.want)
			}
		}
	})
}
