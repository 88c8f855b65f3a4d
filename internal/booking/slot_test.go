package booking_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

func TestSlotRemainingAndOverlaps(t *testing.T) {
	start := instant(t, "2026-12-01T09:00:00Z")
	s := booking.Slot{StartAt: start, EndAt: start.Add(time.Hour), Capacity: 2, Booked: 1, Status: booking.SlotBlocked}
	if got, want := s.Remaining(), 1; got != want {
		t.Errorf("Remaining() = %d, want %d (blocked or not)", got, want)
	}
	s.Booked = 3
	if got, want := s.Remaining(), 0; got != want {
		t.Errorf("Remaining() over capacity = %d, want %d", got, want)
	}
	tests := []struct {
		from, to time.Duration // offsets from start
		want     bool
	}{
		{-time.Hour, 0, false}, // ends as s starts
		{time.Hour, 2 * time.Hour, false},
		{-time.Hour, time.Minute, true},
		{59 * time.Minute, 2 * time.Hour, true},
		{10 * time.Minute, 20 * time.Minute, true},
		{-time.Hour, 2 * time.Hour, true},
	}
	for _, tt := range tests {
		if got := s.Overlaps(start.Add(tt.from), start.Add(tt.to)); got != tt.want {
			t.Errorf("Overlaps(%v, %v) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestValidateNewSlot(t *testing.T) {
	now := instant(t, "2026-11-01T12:00:00Z")
	tests := []struct {
		name   string
		change func(*booking.Slot)
		want   []string
	}{
		{"valid", func(*booking.Slot) {}, nil},
		{"starts now, 12 hours, blocked", func(s *booking.Slot) {
			s.StartAt, s.EndAt, s.Status = now, now.Add(12*time.Hour), booking.SlotBlocked
		}, nil},
		{"in the past", func(s *booking.Slot) { s.StartAt, s.EndAt = now.Add(-time.Second), now.Add(time.Hour) }, []string{"start_at"}},
		{"ends at start", func(s *booking.Slot) { s.EndAt = s.StartAt }, []string{"end_at"}},
		{"too long", func(s *booking.Slot) { s.EndAt = s.StartAt.Add(12*time.Hour + time.Minute) }, []string{"end_at"}},
		{"everything", func(s *booking.Slot) {
			*s = booking.Slot{StartAt: now.Add(-time.Hour), EndAt: now.Add(-2 * time.Hour), Capacity: 101, Status: "closed"}
		}, []string{"capacity", "consultation_type_id", "end_at", "location_id", "provider_id", "start_at", "status"}},
	}
	for _, tt := range tests {
		s := booking.Slot{
			ProviderID: uuid.New(), LocationID: uuid.New(), ConsultationTypeID: uuid.New(),
			StartAt: now.Add(24 * time.Hour), EndAt: now.Add(25 * time.Hour), Capacity: 1, Status: booking.SlotOpen,
		}
		tt.change(&s)
		if got := fields(t, booking.ValidateNewSlot(s, now)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: fields = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidateCapacity(t *testing.T) {
	tests := []struct {
		capacity, booked int
		ok               bool
	}{{1, 0, true}, {3, 3, true}, {100, 0, true}, {2, 3, false}, {0, 0, false}, {101, 0, false}}
	for _, tt := range tests {
		if got := booking.ValidateCapacity(tt.capacity, tt.booked) == nil; got != tt.ok {
			t.Errorf("ValidateCapacity(%d, %d) ok = %v, want %v", tt.capacity, tt.booked, got, tt.ok)
		}
	}
}

func TestPolicy(t *testing.T) {
	now := instant(t, "2026-11-01T12:00:00Z")
	p := booking.DefaultPolicy()
	open := booking.Slot{Capacity: 1, Status: booking.SlotOpen}
	tests := []struct {
		name    string
		startIn time.Duration
		change  func(*booking.Slot)
		want    bool
	}{
		{"in two days", 48 * time.Hour, nil, true},
		{"exactly min notice", 2 * time.Hour, nil, true},
		{"inside min notice", 2*time.Hour - time.Second, nil, false},
		{"exactly max advance", 120 * 24 * time.Hour, nil, true},
		{"beyond max advance", 120*24*time.Hour + time.Second, nil, false},
		{"blocked", 48 * time.Hour, func(s *booking.Slot) { s.Status = booking.SlotBlocked }, false},
		{"full", 48 * time.Hour, func(s *booking.Slot) { s.Booked = 1 }, false},
	}
	for _, tt := range tests {
		s := open
		s.StartAt = now.Add(tt.startIn)
		if tt.change != nil {
			tt.change(&s)
		}
		if got := p.PublicBookable(s, now); got != tt.want {
			t.Errorf("PublicBookable(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}

	changes := []struct {
		startIn time.Duration
		want    bool
	}{{25 * time.Hour, true}, {24 * time.Hour, true}, {24*time.Hour - time.Second, false}, {-time.Hour, false}}
	for _, tt := range changes {
		if got := p.PatientMayChange(now.Add(tt.startIn), now); got != tt.want {
			t.Errorf("PatientMayChange(start in %v) = %v, want %v", tt.startIn, got, tt.want)
		}
	}
}
