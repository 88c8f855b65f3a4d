package store_test

import (
	"context"
	"errors"
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
