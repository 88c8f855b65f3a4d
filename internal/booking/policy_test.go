package booking_test

import (
	"testing"
	"time"

	"github.com/clinic/consult/internal/booking"
)

// TestChangeableUntil: online changes close PatientChangeCutoff before the
// start, in UTC; at that very instant they are still open (as
// PatientMayChange says), one nanosecond later they are closed (nil).
func TestChangeableUntil(t *testing.T) {
	p := booking.DefaultPolicy()
	start := time.Date(2026, 12, 10, 9, 0, 0, 0, time.FixedZone("PST", -8*3600))
	deadline := start.Add(-24 * time.Hour).UTC()
	tests := []struct {
		name string
		now  time.Time
		want *time.Time
	}{
		{"days before", start.Add(-72 * time.Hour), &deadline},
		{"at the cutoff", deadline, &deadline},
		{"just after the cutoff", deadline.Add(time.Nanosecond), nil},
		{"after the start", start.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		got := p.ChangeableUntil(start, tt.now)
		switch {
		case (got == nil) != (tt.want == nil):
			t.Errorf("%s: ChangeableUntil = %v, want %v", tt.name, got, tt.want)
		case got != nil && (!got.Equal(*tt.want) || got.Location() != time.UTC):
			t.Errorf("%s: ChangeableUntil = %v, want %v in UTC", tt.name, got, tt.want)
		}
		if may := p.PatientMayChange(start, tt.now); may != (tt.want != nil) {
			t.Errorf("%s: PatientMayChange = %v, but ChangeableUntil = %v", tt.name, may, got)
		}
	}
}
