package booking_test

import (
	"testing"
	"time"

	"github.com/clinic/consult/internal/booking"
)

func TestParseOfferWindow(t *testing.T) {
	tests := []struct {
		in      string
		want    booking.OfferWindow
		wantErr bool
	}{
		{"", booking.PublicWindow, false},
		{"public", booking.PublicWindow, false},
		{"staff", booking.StaffWindow, false},
		{"Staff", "", true},
		{"desk", "", true},
	}
	for _, tt := range tests {
		got, err := booking.ParseOfferWindow(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseOfferWindow(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestOffers: the staff window offers every open place of a slot that has
// not ended (inside the notice, in progress, beyond MaxAdvance) and nothing
// else; the public window is PublicBookable. OfferedStarts never cuts off
// a slot that Offers accepts.
func TestOffers(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	p := booking.DefaultPolicy()
	slot := func(start time.Time, length time.Duration, mod func(*booking.Slot)) booking.Slot {
		s := booking.Slot{Status: booking.SlotOpen, Capacity: 1, StartAt: start, EndAt: start.Add(length)}
		if mod != nil {
			mod(&s)
		}
		return s
	}
	const consult = 45 * time.Minute
	tests := []struct {
		name              string
		s                 booking.Slot
		public, staffWant bool
	}{
		{"inside the window", slot(now.Add(3*time.Hour), consult, nil), true, true},
		{"at the notice's edge", slot(now.Add(2*time.Hour), consult, nil), true, true},
		{"inside the notice", slot(now.Add(30*time.Minute), consult, nil), false, true},
		{"starting now", slot(now, consult, nil), false, true},
		{"started 10 minutes ago", slot(now.Add(-10*time.Minute), consult, nil), false, true},
		{"ending now", slot(now.Add(-consult), consult, nil), false, false},
		{"ended", slot(now.Add(-2*time.Hour), consult, nil), false, false},
		{"longest slot, a second left", slot(now.Add(-booking.MaxSlotLength+time.Second), booking.MaxSlotLength, nil), false, true},
		{"beyond MaxAdvance", slot(now.Add(121*24*time.Hour), consult, nil), false, true},
		{"blocked, inside the notice", slot(now.Add(30*time.Minute), consult, func(s *booking.Slot) { s.Status = booking.SlotBlocked }), false, false},
		{"full, inside the notice", slot(now.Add(30*time.Minute), consult, func(s *booking.Slot) { s.Booked = 1 }), false, false},
		{"held, inside the notice", slot(now.Add(30*time.Minute), consult, func(s *booking.Slot) { s.Held = 1 }), false, false},
		{"one of two held, in progress", slot(now.Add(-5*time.Minute), consult, func(s *booking.Slot) { s.Capacity, s.Held = 2, 1 }), false, true},
	}
	for _, tt := range tests {
		if got := p.Offers(booking.PublicWindow, tt.s, now); got != tt.public {
			t.Errorf("%s: public window offers = %v, want %v", tt.name, got, tt.public)
		}
		if got := p.Offers(booking.StaffWindow, tt.s, now); got != tt.staffWant {
			t.Errorf("%s: staff window offers = %v, want %v", tt.name, got, tt.staffWant)
		}
		for _, w := range []booking.OfferWindow{booking.PublicWindow, booking.StaffWindow} {
			earliest, latest := p.OfferedStarts(w, now)
			inBounds := !tt.s.StartAt.Before(earliest) && (latest.IsZero() || !tt.s.StartAt.After(latest))
			if p.Offers(w, tt.s, now) && !inBounds {
				t.Errorf("%s: %s window offers a slot starting at %v outside OfferedStarts %v to %v", tt.name, w, tt.s.StartAt, earliest, latest)
			}
		}
	}
}
