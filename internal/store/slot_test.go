package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

func TestCreateSlotRejectsOverlap(t *testing.T) {
	base := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	tests := []struct {
		name       string
		start, end time.Duration // from base
		wantErr    error
	}{
		{"same time", 0, 30 * time.Minute, booking.ErrSlotOverlap},
		{"starts inside", 15 * time.Minute, 45 * time.Minute, booking.ErrSlotOverlap},
		{"ends inside", -15 * time.Minute, 15 * time.Minute, booking.ErrSlotOverlap},
		{"contains", -time.Hour, time.Hour, booking.ErrSlotOverlap},
		{"inside", 10 * time.Minute, 20 * time.Minute, booking.ErrSlotOverlap},
		{"touches after", 30 * time.Minute, time.Hour, nil},
		{"touches before", -30 * time.Minute, 0, nil},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, s, "UTC")
				if err := s.CreateSlot(ctx, f.slot(base, 30*time.Minute)); err != nil {
					t.Fatalf("first slot: %v", err)
				}
				sl := f.slot(base.Add(tt.start), tt.end-tt.start)
				err := s.CreateSlot(ctx, sl)
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Fatalf("second slot: got %v, want %v", err, tt.wantErr)
				}
				// Another provider may always have the same time.
				g := newFixture(t, s, "UTC")
				if err := s.CreateSlot(ctx, g.slot(base.Add(tt.start), tt.end-tt.start)); err != nil {
					t.Errorf("other provider: got %v, want nil", err)
				}
			})
		}
	})
}

func TestCreateSlotConcurrentlyOnlyOneWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		base := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
		const n = 20
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				// Different starts that all overlap one another, so the unique
				// index alone could not catch them.
				errs <- s.CreateSlot(ctx, f.slot(base.Add(time.Duration(i)*time.Minute), time.Hour))
			})
		}
		wg.Wait()
		close(errs)
		ok, overlap := 0, 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, booking.ErrSlotOverlap):
				overlap++
			default:
				t.Errorf("create: got %v, want nil or ErrSlotOverlap", err)
			}
		}
		if ok != 1 || overlap != n-1 {
			t.Errorf("got %d created and %d overlaps, want 1 and %d", ok, overlap, n-1)
		}
	})
}

func TestCreateSlotNamesUnknownReferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		sl := f.slot(time.Now().Add(time.Hour), 30*time.Minute)
		sl.ProviderID, sl.LocationID, sl.ConsultationTypeID = uuid.New(), uuid.New(), uuid.New()
		err := s.CreateSlot(ctx, sl)
		var ve *booking.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("got %v, want a ValidationError", err)
		}
		var got []string
		for _, fe := range ve.Fields {
			got = append(got, fe.Field)
		}
		want := []string{"provider_id", "location_id", "consultation_type_id"}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("fields: got %v, want %v", got, want)
		}
	})
}

func TestSlotRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		want := f.slot(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC), 45*time.Minute)
		want.Capacity = 3
		if err := s.CreateSlot(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Slot(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.StartAt.Equal(want.StartAt) || !got.EndAt.Equal(want.EndAt) || got.Capacity != 3 ||
			got.Booked != 0 || got.Status != booking.SlotOpen || got.ProviderID != f.provider.ID ||
			got.LocationID != f.location.ID || got.ConsultationTypeID != f.ctype.ID || got.ScheduleID != nil {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if _, err := s.Slot(ctx, uuid.New()); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown slot: got %v, want ErrNotFound", err)
		}
	})
}

func TestListSlotsFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		la := newFixture(t, s, "America/Los_Angeles")
		berlin := newFixture(t, s, "Europe/Berlin")
		// 2030-01-10 in both zones: 08:00 and 23:30 local.
		laTZ, _ := time.LoadLocation("America/Los_Angeles")
		beTZ, _ := time.LoadLocation("Europe/Berlin")
		var want []uuid.UUID
		mk := func(f fixture, start time.Time, status booking.SlotStatus) booking.Slot {
			sl := f.slot(start, 30*time.Minute)
			sl.Status = status
			if err := s.CreateSlot(ctx, sl); err != nil {
				t.Fatalf("create %v: %v", start, err)
			}
			return sl
		}
		la1 := mk(la, time.Date(2030, 1, 10, 8, 0, 0, 0, laTZ), booking.SlotOpen)
		la2 := mk(la, time.Date(2030, 1, 10, 23, 30, 0, 0, laTZ), booking.SlotBlocked) // 2030-01-11 in UTC
		be1 := mk(berlin, time.Date(2030, 1, 10, 8, 0, 0, 0, beTZ), booking.SlotOpen)
		be2 := mk(berlin, time.Date(2030, 1, 10, 23, 30, 0, 0, beTZ), booking.SlotOpen)
		beNext := mk(berlin, time.Date(2030, 1, 11, 0, 30, 0, 0, beTZ), booking.SlotOpen) // the next local day
		mk(la, time.Date(2030, 1, 9, 23, 30, 0, 0, laTZ), booking.SlotOpen)               // the day before
		want = []uuid.UUID{be1.ID, la1.ID, be2.ID, la2.ID}
		day := booking.Date{Year: 2030, Month: 1, Day: 10}
		ids := func(f store.SlotFilter, limit int) []uuid.UUID {
			t.Helper()
			var got []uuid.UUID
			cur := ""
			for pages := 0; ; pages++ {
				items, next, err := s.ListSlots(ctx, f, cur, limit)
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				if len(items) > limit || pages > 20 {
					t.Fatalf("page of %d items, limit %d", len(items), limit)
				}
				for _, sl := range items {
					got = append(got, sl.ID)
				}
				if next == "" {
					return got
				}
				cur = next
			}
		}
		blocked := booking.SlotBlocked
		tests := []struct {
			name  string
			f     store.SlotFilter
			limit int
			want  []uuid.UUID
		}{
			{"local day, one page", store.SlotFilter{FromDate: day, ToDate: day}, 50, want},
			{"local day, pages of one", store.SlotFilter{FromDate: day, ToDate: day}, 1, want},
			{"local day, pages of three", store.SlotFilter{FromDate: day, ToDate: day}, 3, want},
			{"provider", store.SlotFilter{FromDate: day, ToDate: day, ProviderID: &la.provider.ID}, 50, []uuid.UUID{la1.ID, la2.ID}},
			{"location", store.SlotFilter{FromDate: day, ToDate: day, LocationID: &berlin.location.ID}, 50, []uuid.UUID{be1.ID, be2.ID}},
			{"type", store.SlotFilter{FromDate: day, ToDate: day, ConsultationTypeID: &berlin.ctype.ID}, 50, []uuid.UUID{be1.ID, be2.ID}},
			{"status", store.SlotFilter{FromDate: day, ToDate: day, Status: blocked}, 50, []uuid.UUID{la2.ID}},
			{"instants", store.SlotFilter{StartFrom: la1.StartAt, StartBefore: la2.StartAt}, 50, []uuid.UUID{la1.ID, be2.ID, beNext.ID}},
			{"from day only", store.SlotFilter{FromDate: day, LocationID: &la.location.ID}, 50, []uuid.UUID{la1.ID, la2.ID}},
			{"unknown location", store.SlotFilter{FromDate: day, LocationID: ptr(uuid.New())}, 50, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := ids(tt.f, tt.limit)
				if !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
		if _, _, err := s.ListSlots(ctx, store.SlotFilter{}, "not-a-cursor!", 10); err == nil {
			t.Errorf("bad cursor: got nil error, want a validation error")
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestUpdateSlotCapacityNeverBelowBooked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		sl := f.slot(time.Now().Add(24*time.Hour), 30*time.Minute)
		sl.Capacity = 3
		if err := s.CreateSlot(ctx, sl); err != nil {
			t.Fatal(err)
		}
		if err := store.SetSlotBooked(ctx, s, sl.ID, 2); err != nil {
			t.Fatal(err)
		}
		blocked := booking.SlotBlocked
		tests := []struct {
			name         string
			patch        store.SlotPatch
			wantErr      error
			wantCapacity int
			wantStatus   booking.SlotStatus
		}{
			{"below booked", store.SlotPatch{Capacity: ptr(1)}, booking.ErrSlotInUse, 3, booking.SlotOpen},
			{"below booked with status", store.SlotPatch{Capacity: ptr(1), Status: &blocked}, booking.ErrSlotInUse, 3, booking.SlotOpen},
			{"equal to booked", store.SlotPatch{Capacity: ptr(2)}, nil, 2, booking.SlotOpen},
			{"block", store.SlotPatch{Status: &blocked}, nil, 2, booking.SlotBlocked},
			{"raise", store.SlotPatch{Capacity: ptr(5)}, nil, 5, booking.SlotBlocked},
		}
		for _, tt := range tests {
			got, err := s.UpdateSlot(ctx, sl.ID, tt.patch)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("%s: got error %v, want %v", tt.name, err, tt.wantErr)
			}
			now, err := s.Slot(ctx, sl.ID)
			if err != nil {
				t.Fatal(err)
			}
			if now.Capacity != tt.wantCapacity || now.Status != tt.wantStatus || now.Booked != 2 {
				t.Errorf("%s: got capacity %d status %s booked %d, want %d %s 2",
					tt.name, now.Capacity, now.Status, now.Booked, tt.wantCapacity, tt.wantStatus)
			}
			if tt.wantErr == nil && (got.Capacity != now.Capacity || got.Status != now.Status) {
				t.Errorf("%s: returned %+v, stored %+v", tt.name, got, now)
			}
		}
		if _, err := s.UpdateSlot(ctx, uuid.New(), store.SlotPatch{Capacity: ptr(2)}); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown slot: got %v, want ErrNotFound", err)
		}
	})
}

func TestDeleteSlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		base := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
		free, occupied, history := f.slot(base, time.Hour), f.slot(base.Add(time.Hour), time.Hour), f.slot(base.Add(2*time.Hour), time.Hour)
		for _, sl := range []booking.Slot{free, occupied, history} {
			if err := s.CreateSlot(ctx, sl); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.SetSlotBooked(ctx, s, occupied.ID, 1); err != nil {
			t.Fatal(err)
		}
		if err := store.InsertReleasedBooking(ctx, s, history.ID); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name    string
			id      uuid.UUID
			wantErr error
		}{
			{"occupied", occupied.ID, booking.ErrSlotInUse},
			{"released bookings refer to it", history.ID, booking.ErrSlotInUse},
			{"free", free.ID, nil},
			{"already deleted", free.ID, booking.ErrNotFound},
			{"unknown", uuid.New(), booking.ErrNotFound},
		}
		for _, tt := range tests {
			err := s.DeleteSlot(ctx, tt.id)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.wantErr)
			}
		}
		for _, id := range []uuid.UUID{occupied.ID, history.ID} {
			if _, err := s.Slot(ctx, id); err != nil {
				t.Errorf("slot %v after refused delete: %v", id, err)
			}
		}
	})
}

// Places taken while staff lower the capacity: whatever the interleaving,
// booked never exceeds capacity and every refused change is ErrSlotInUse.
func TestUpdateSlotCapacityRacesWithBookings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		sl := f.slot(time.Now().Add(24*time.Hour), 30*time.Minute)
		sl.Capacity = 10
		if err := s.CreateSlot(ctx, sl); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				if _, err := store.TakePlace(ctx, s, sl.ID); err != nil {
					t.Errorf("take place: %v", err)
				}
			})
			wg.Go(func() {
				_, err := s.UpdateSlot(ctx, sl.ID, store.SlotPatch{Capacity: ptr(10 - i)})
				if err != nil && !errors.Is(err, booking.ErrSlotInUse) {
					t.Errorf("capacity %d: got %v, want nil or ErrSlotInUse", 10-i, err)
				}
			})
		}
		wg.Wait()
		got, err := s.Slot(ctx, sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Booked > got.Capacity || got.Booked == 0 {
			t.Errorf("after the race: booked %d, capacity %d", got.Booked, got.Capacity)
		}
	})
}
