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

// fixture is one provider, location and consultation type, all active.
type fixture struct {
	provider booking.Provider
	location booking.Location
	ctype    booking.ConsultationType
}

// newFixture creates an active provider, a location in tz and a 30-minute
// consultation type.
func newFixture(t testing.TB, s *store.Store, tz string) fixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	f := fixture{
		provider: booking.Provider{ID: uuid.New(), Name: "Dr. Dana Reyes", Title: "Spine surgeon", Active: true, CreatedAt: now},
		location: booking.Location{ID: uuid.New(), Name: "Main office", Address: "1 Main St", Timezone: tz, Active: true, CreatedAt: now},
		ctype: booking.ConsultationType{ID: uuid.New(), Name: "Follow-up", DurationMinutes: 30,
			RequiresConfirmation: true, Active: true, CreatedAt: now},
	}
	if err := s.CreateProvider(ctx, f.provider); err != nil {
		t.Fatalf("create provider: %v", err)
	}
	if err := s.CreateLocation(ctx, f.location); err != nil {
		t.Fatalf("create location: %v", err)
	}
	if err := s.CreateConsultationType(ctx, f.ctype); err != nil {
		t.Fatalf("create consultation type: %v", err)
	}
	return f
}

// slot returns an open one-place slot of f from start for d; it is not
// stored.
func (f fixture) slot(start time.Time, d time.Duration) booking.Slot {
	return booking.Slot{
		ID: uuid.New(), ProviderID: f.provider.ID, LocationID: f.location.ID, ConsultationTypeID: f.ctype.ID,
		StartAt: start.UTC(), EndAt: start.Add(d).UTC(), Capacity: 1, Status: booking.SlotOpen, CreatedAt: time.Now(),
	}
}

func TestCatalogueRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "Europe/Berlin")
		p, err := s.Provider(ctx, f.provider.ID)
		if err != nil {
			t.Fatalf("provider: %v", err)
		}
		if p.Name != f.provider.Name || p.Title != f.provider.Title || !p.Active || p.StaffID != nil {
			t.Errorf("provider: got %+v, want %+v", p, f.provider)
		}
		l, err := s.Location(ctx, f.location.ID)
		if err != nil {
			t.Fatalf("location: %v", err)
		}
		if l.Timezone != "Europe/Berlin" || l.Address != "1 Main St" {
			t.Errorf("location: got %+v, want %+v", l, f.location)
		}
		ct, err := s.ConsultationType(ctx, f.ctype.ID)
		if err != nil {
			t.Fatalf("consultation type: %v", err)
		}
		if ct.DurationMinutes != 30 || !ct.RequiresConfirmation {
			t.Errorf("consultation type: got %+v, want %+v", ct, f.ctype)
		}
		if _, err := s.Provider(ctx, uuid.New()); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown provider: got %v, want ErrNotFound", err)
		}
		if _, err := s.Location(ctx, uuid.New()); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown location: got %v, want ErrNotFound", err)
		}
		if _, err := s.ConsultationType(ctx, uuid.New()); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown consultation type: got %v, want ErrNotFound", err)
		}
	})
}
