package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

func date(y int, m time.Month, d int) booking.Date { return booking.Date{Year: y, Month: m, Day: d} }

// schedule returns a schedule of f: weekdays 09:00-17:00 in 30-minute
// slots, valid from..to. It is not stored.
func (f fixture) schedule(from, to booking.Date) booking.Schedule {
	var ws []booking.Window
	for d := time.Monday; d <= time.Friday; d++ {
		ws = append(ws, booking.Window{Weekday: d, Start: 9 * 60, End: 17 * 60})
	}
	return booking.Schedule{
		ID: uuid.New(), ProviderID: f.provider.ID, LocationID: f.location.ID, ConsultationTypeID: f.ctype.ID,
		SlotMinutes: 30, Capacity: 1, ValidFrom: from, ValidTo: &to, Windows: ws, Active: true, CreatedAt: time.Now(),
	}
}

func TestScheduleRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "Europe/Berlin")
		want := f.schedule(date(2030, 1, 1), date(2030, 3, 31))
		want.Windows = append(want.Windows, booking.Window{Weekday: time.Saturday, Start: 20 * 60, End: booking.EndOfDay})
		if err := s.CreateSchedule(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Schedule(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ValidFrom != want.ValidFrom || *got.ValidTo != *want.ValidTo || len(got.Windows) != 6 ||
			got.Windows[5] != want.Windows[5] || got.SlotMinutes != 30 || !got.Active || got.ProviderID != f.provider.ID {
			t.Errorf("got %+v, want %+v", got, want)
		}
		up, err := s.UpdateSchedule(ctx, want.ID, func(sc *booking.Schedule) error {
			sc.Capacity = 3
			sc.Windows = sc.Windows[:1]
			sc.ProviderID = uuid.New() // ignored: the template's provider cannot change
			return sc.Validate()
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = s.Schedule(ctx, want.ID)
		if up.Capacity != 3 || got.Capacity != 3 || len(got.Windows) != 1 || got.ProviderID != f.provider.ID {
			t.Errorf("after update: got %+v", got)
		}
		if _, err := s.UpdateSchedule(ctx, want.ID, func(sc *booking.Schedule) error {
			sc.Capacity = 0
			return sc.Validate()
		}); err == nil {
			t.Errorf("invalid update: got nil error")
		}
		if got, _ := s.Schedule(ctx, want.ID); got.Capacity != 3 {
			t.Errorf("after refused update: capacity %d, want 3", got.Capacity)
		}

		// Unknown references are named.
		bad := f.schedule(date(2030, 1, 1), date(2030, 1, 2))
		bad.LocationID = uuid.New()
		var ve *booking.ValidationError
		if err := s.CreateSchedule(ctx, bad); !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "location_id" {
			t.Errorf("unknown location: got %v, want a validation error on location_id", err)
		}

		// Deleting keeps the generated slots, without their schedule.
		res, err := s.GenerateSlots(ctx, want.ID, date(2030, 1, 7), date(2030, 1, 7), time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil || res.Created != 16 {
			t.Fatalf("generate: got %+v, %v; want 16 created", res, err)
		}
		if err := s.DeleteSchedule(ctx, want.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSchedule(ctx, want.ID); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("second delete: got %v, want ErrNotFound", err)
		}
		slots, _, err := s.ListSlots(ctx, store.SlotFilter{ProviderID: &f.provider.ID}, "", 100)
		if err != nil || len(slots) != 16 {
			t.Fatalf("slots after delete: got %d, %v; want 16", len(slots), err)
		}
		if slots[0].ScheduleID != nil {
			t.Errorf("schedule_id after delete: got %v, want nil", *slots[0].ScheduleID)
		}
	})
}

func TestListSchedulesPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		want := map[uuid.UUID]bool{}
		for i := range 5 {
			sc := f.schedule(date(2030, 1, 1), date(2030, 1, 31))
			sc.CreatedAt = time.Now().Add(time.Duration(i%2) * time.Second) // ties on created_at too
			if err := s.CreateSchedule(ctx, sc); err != nil {
				t.Fatal(err)
			}
			want[sc.ID] = true
		}
		got := map[uuid.UUID]bool{}
		cur := ""
		for range 10 {
			items, next, err := s.ListSchedules(ctx, cur, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, sc := range items {
				if got[sc.ID] {
					t.Errorf("schedule %v listed twice", sc.ID)
				}
				got[sc.ID] = true
			}
			if next == "" {
				break
			}
			cur = next
		}
		if len(got) != len(want) {
			t.Errorf("listed %d schedules, want %d", len(got), len(want))
		}
	})
}

func TestGenerateSlots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "America/Los_Angeles")
		sc := f.schedule(date(2030, 1, 1), date(2030, 12, 31))
		if err := s.CreateSchedule(ctx, sc); err != nil {
			t.Fatal(err)
		}
		la, _ := time.LoadLocation("America/Los_Angeles")
		// A slot made by hand on Monday 2030-01-07 10:15-10:45 blocks the
		// 10:00 and 10:30 occurrences.
		hand := f.slot(time.Date(2030, 1, 7, 10, 15, 0, 0, la), 30*time.Minute)
		if err := s.CreateSlot(ctx, hand); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2030, 1, 7, 12, 0, 0, 0, la) // Monday noon: the morning is past
		queries := store.CountQueries(s)
		// Monday 2030-01-07 to Sunday 01-13: 5 weekdays of 16 slots.
		res, err := s.GenerateSlots(ctx, sc.ID, date(2030, 1, 7), date(2030, 1, 13), now)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res, (store.GenerateResult{Created: 4*16 + 10, Skipped: 6}); got != want {
			t.Errorf("first run: got %+v, want %+v", got, want)
		}
		if n := queries.Load(); n > 8 {
			t.Errorf("first run: %d SQL statements, want a fixed handful", n)
		}
		res, err = s.GenerateSlots(ctx, sc.ID, date(2030, 1, 7), date(2030, 1, 13), now)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res, (store.GenerateResult{Created: 0, Skipped: 80}); got != want {
			t.Errorf("second run: got %+v, want %+v", got, want)
		}

		// A whole year costs a handful of statements too: the overlap check
		// is one read, the inserts go in batches of 500.
		queries.Store(0)
		res, err = s.GenerateSlots(ctx, sc.ID, date(2030, 1, 1), date(2030, 12, 31), now)
		if err != nil {
			t.Fatal(err)
		}
		if n, max := queries.Load(), int64(8+res.Created/500); n > max {
			t.Errorf("a year: %d SQL statements for %d slots, want at most %d", n, res.Created, max)
		}
		// 2030 has 261 weekdays of 16 slots. Skipped: the 74 made above,
		// 4 past weekdays (Jan 1-4) and Monday's 6 past morning slots.
		if got, want := res, (store.GenerateResult{Created: 261*16 - 74 - 4*16 - 6, Skipped: 74 + 4*16 + 6}); got != want {
			t.Errorf("a year: got %+v, want %+v", got, want)
		}

		if _, err := s.GenerateSlots(ctx, uuid.New(), date(2030, 1, 1), date(2030, 1, 2), now); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown schedule: got %v, want ErrNotFound", err)
		}
		if _, err := s.UpdateSchedule(ctx, sc.ID, func(sc *booking.Schedule) error { sc.Active = false; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GenerateSlots(ctx, sc.ID, date(2030, 1, 1), date(2030, 1, 2), now); !errors.Is(err, booking.ErrConflict) {
			t.Errorf("inactive schedule: got %v, want ErrConflict", err)
		}
	})
}
