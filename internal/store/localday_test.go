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

// TestListsAgreeOnLocalDays books late-evening and early-morning slots
// around DST changes at midnight (and one away from midnight) and checks that
// the booking list, the slot list and availability put each slot on the same
// local day.
func TestListsAgreeOnLocalDays(t *testing.T) {
	cases := []struct {
		zone string
		day  booking.Date // a day next to a DST change
	}{
		{"America/Santiago", booking.Date{Year: 2026, Month: 9, Day: 5}},    // midnight after it skipped
		{"America/Santiago", booking.Date{Year: 2026, Month: 4, Day: 4}},    // ends with a repeated hour
		{"America/Havana", booking.Date{Year: 2026, Month: 3, Day: 7}},      // midnight after it skipped
		{"America/Havana", booking.Date{Year: 2026, Month: 10, Day: 31}},    // midnight after it repeated
		{"Asia/Beirut", booking.Date{Year: 2026, Month: 3, Day: 28}},        // midnight after it skipped
		{"Asia/Beirut", booking.Date{Year: 2026, Month: 10, Day: 24}},       // ends with a repeated hour
		{"America/Los_Angeles", booking.Date{Year: 2026, Month: 3, Day: 7}}, // change at 02:00 the next day
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, c := range cases {
			f := newFixture(t, s, c.zone)
			loc, _ := time.LoadLocation(c.zone)
			_, dayEnd := booking.LocalDay(c.day, loc)
			// 23:30 on the day (the last half hour before its end), and
			// the first half hour of the next day.
			late := f.slot(dayEnd.Add(-30*time.Minute), 20*time.Minute)
			early := f.slot(dayEnd, 20*time.Minute)
			for _, sl := range []booking.Slot{late, early} {
				if err := s.CreateSlot(ctx, sl); err != nil {
					t.Fatalf("%s: create slot: %v", c.zone, err)
				}
				if _, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), nil); err != nil {
					t.Fatalf("%s: book: %v", c.zone, err)
				}
			}
			for _, d := range []struct {
				day  booking.Date
				want uuid.UUID
			}{{c.day, late.ID}, {c.day.AddDays(1), early.ID}} {
				items, _, err := s.ListBookings(ctx, store.BookingFilter{
					From: booking.DayBound(d.day), To: booking.DayBound(d.day), LocationID: &f.location.ID, Limit: 50,
				})
				if err != nil {
					t.Fatal(err)
				}
				var got []uuid.UUID
				for _, it := range items {
					got = append(got, it.Slot.ID)
				}
				if !slices.Equal(got, []uuid.UUID{d.want}) {
					t.Errorf("%s: bookings on %s: got slots %v, want %v", c.zone, d.day, got, d.want)
				}
				slots, _, err := s.ListSlots(ctx, store.SlotFilter{FromDate: d.day, ToDate: d.day, LocationID: &f.location.ID}, "", 50)
				if err != nil {
					t.Fatal(err)
				}
				got = got[:0]
				for _, sl := range slots {
					got = append(got, sl.ID)
				}
				if !slices.Equal(got, []uuid.UUID{d.want}) {
					t.Errorf("%s: slots on %s: got %v, want %v", c.zone, d.day, got, d.want)
				}
			}
		}
	})
}
