package booking

import (
	"testing"
	"time"
)

func utcAt(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

// The zones and days below were checked against Go's own tzdata: Santiago
// changes at 24:00 (midnight skipped in September, the last hour of Saturday
// repeated in April), Havana skips midnight in March and repeats it in
// November (01:00 back to 00:00), Beirut changes at midnight both ways,
// Scoresbysund skips 23:00-24:00, and Los Angeles and Berlin change at 02:00
// and 03:00, away from midnight.
func TestLocalDay(t *testing.T) {
	tests := []struct {
		zone       string
		day        Date
		start, end time.Time
	}{
		{"UTC", Date{2026, 12, 1}, utcAt(2026, 12, 1, 0), utcAt(2026, 12, 2, 0)},
		{"America/Los_Angeles", Date{2026, 12, 1}, utcAt(2026, 12, 1, 8), utcAt(2026, 12, 2, 8)},
		// Changes away from midnight: 23 and 25 hour days.
		{"America/Los_Angeles", Date{2026, 3, 8}, utcAt(2026, 3, 8, 8), utcAt(2026, 3, 9, 7)},
		{"America/Los_Angeles", Date{2026, 11, 1}, utcAt(2026, 11, 1, 7), utcAt(2026, 11, 2, 8)},
		{"Europe/Berlin", Date{2026, 3, 29}, utcAt(2026, 3, 28, 23), utcAt(2026, 3, 29, 22)},
		{"Europe/Berlin", Date{2026, 10, 25}, utcAt(2026, 10, 24, 22), utcAt(2026, 10, 25, 23)},
		// Midnight skipped: the day starts at 01:00, the change.
		{"America/Santiago", Date{2026, 9, 6}, utcAt(2026, 9, 6, 4), utcAt(2026, 9, 7, 3)},
		{"America/Santiago", Date{2026, 9, 5}, utcAt(2026, 9, 5, 4), utcAt(2026, 9, 6, 4)},
		{"America/Santiago", Date{2027, 9, 5}, utcAt(2027, 9, 5, 4), utcAt(2027, 9, 6, 3)},
		{"America/Havana", Date{2026, 3, 8}, utcAt(2026, 3, 8, 5), utcAt(2026, 3, 9, 4)},
		{"America/Havana", Date{2026, 3, 7}, utcAt(2026, 3, 7, 5), utcAt(2026, 3, 8, 5)},
		{"Asia/Beirut", Date{2026, 3, 29}, utcAt(2026, 3, 28, 22), utcAt(2026, 3, 29, 21)},
		{"Asia/Beirut", Date{2027, 3, 28}, utcAt(2027, 3, 27, 22), utcAt(2027, 3, 28, 21)},
		// The hour before midnight skipped: the day before is 23 hours.
		{"America/Scoresbysund", Date{2026, 3, 28}, utcAt(2026, 3, 28, 2), utcAt(2026, 3, 29, 1)},
		// Clocks go back at 24:00: the day before midnight is 25 hours.
		{"America/Santiago", Date{2026, 4, 4}, utcAt(2026, 4, 4, 3), utcAt(2026, 4, 5, 4)},
		{"Asia/Beirut", Date{2026, 10, 24}, utcAt(2026, 10, 23, 21), utcAt(2026, 10, 24, 22)},
		// Midnight repeated (01:00 back to 00:00): the day starts at the
		// first midnight and lasts 25 hours.
		{"America/Havana", Date{2026, 11, 1}, utcAt(2026, 11, 1, 4), utcAt(2026, 11, 2, 5)},
		{"America/Havana", Date{2026, 10, 31}, utcAt(2026, 10, 31, 4), utcAt(2026, 11, 1, 4)},
		{"America/Havana", Date{2027, 11, 7}, utcAt(2027, 11, 7, 4), utcAt(2027, 11, 8, 5)},
	}
	for _, tt := range tests {
		loc, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		start, end := LocalDay(tt.day, loc)
		if !start.Equal(tt.start) || !end.Equal(tt.end) {
			t.Errorf("LocalDay(%s, %s): got [%v, %v), want [%v, %v)", tt.day, tt.zone, start, end, tt.start, tt.end)
		}
		// The range is exactly the instants whose local date is the day.
		if d := DateOf(start, loc); d != tt.day {
			t.Errorf("LocalDay(%s, %s): start falls on %s", tt.day, tt.zone, d)
		}
		if d := DateOf(start.Add(-time.Second), loc); d == tt.day {
			t.Errorf("LocalDay(%s, %s): the second before the start is on the same day", tt.day, tt.zone)
		}
		if d := DateOf(end.Add(-time.Second), loc); d != tt.day {
			t.Errorf("LocalDay(%s, %s): the last second falls on %s", tt.day, tt.zone, d)
		}
		if got := DayEnd(start.Add(time.Hour), loc); !got.Equal(tt.end) {
			t.Errorf("DayEnd(%v, %s): got %v, want %v", start.Add(time.Hour), tt.zone, got, tt.end)
		}
		r := DateRange{From: tt.day, To: tt.day}
		if rs, re := r.Instants(loc); !rs.Equal(start) || !re.Equal(end) {
			t.Errorf("DateRange(%s).Instants(%s): got [%v, %v), want [%v, %v)", tt.day, tt.zone, rs, re, start, end)
		}
		if !r.Contains(start, loc) || r.Contains(end, loc) || r.Contains(start.Add(-time.Second), loc) {
			t.Errorf("DateRange(%s).Contains(%s) does not match [%v, %v)", tt.day, tt.zone, start, end)
		}
	}
}

// TestLocalDaysTile checks, over two years of every zone above, that each
// day starts where the one before ends: no instant is lost or counted twice.
func TestLocalDaysTile(t *testing.T) {
	for _, zone := range []string{"America/Santiago", "America/Havana", "Asia/Beirut", "America/Scoresbysund", "America/Los_Angeles", "Pacific/Chatham", "Australia/Lord_Howe"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		d := Date{2026, 1, 1}
		_, prevEnd := LocalDay(d, loc)
		for i := 0; i < 730; i++ {
			d = d.AddDays(1)
			start, end := LocalDay(d, loc)
			if !start.Equal(prevEnd) {
				t.Errorf("%s %s: starts at %v, the day before ended at %v", zone, d, start, prevEnd)
			}
			if h := end.Sub(start); h < 22*time.Hour || h > 26*time.Hour {
				t.Errorf("%s %s: lasts %v", zone, d, h)
			}
			prevEnd = end
		}
	}
}
