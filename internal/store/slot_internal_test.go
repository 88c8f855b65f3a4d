package store

import (
	"testing"
	"time"

	"github.com/clinic/consult/internal/booking"
)

func TestDayStart(t *testing.T) {
	tests := []struct {
		zone string
		day  booking.Date
		want time.Time // UTC
	}{
		{"UTC", booking.Date{Year: 2026, Month: 12, Day: 1}, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"America/Los_Angeles", booking.Date{Year: 2026, Month: 12, Day: 1}, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
		{"America/Los_Angeles", booking.Date{Year: 2026, Month: 3, Day: 8}, time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC)},
		{"Europe/Berlin", booking.Date{Year: 2026, Month: 3, Day: 29}, time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC)},
		// Midnight is skipped: the day starts at 01:00 local, the change.
		{"America/Havana", booking.Date{Year: 2026, Month: 3, Day: 8}, time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC)},
		{"America/Santiago", booking.Date{Year: 2026, Month: 9, Day: 6}, time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC)},
		{"Asia/Beirut", booking.Date{Year: 2026, Month: 3, Day: 29}, time.Date(2026, 3, 28, 22, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		loc, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		got := dayStart(tt.day, loc)
		if !got.Equal(tt.want) {
			t.Errorf("dayStart(%s, %s): got %v, want %v", tt.day, tt.zone, got.UTC(), tt.want)
		}
		if d := booking.DateOf(got, loc); d != tt.day {
			t.Errorf("dayStart(%s, %s) falls on %s", tt.day, tt.zone, d)
		}
		if d := booking.DateOf(got.Add(-time.Second), loc); d == tt.day {
			t.Errorf("dayStart(%s, %s): the second before is on the same day", tt.day, tt.zone)
		}
	}
}
