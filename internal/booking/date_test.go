package booking_test

import (
	"testing"
	"time"

	"github.com/clinic/consult/internal/booking"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when in must be rejected
	}{
		{"2026-03-08", "2026-03-08"},
		{"2024-02-29", "2024-02-29"},
		{"0001-01-01", "0001-01-01"},
		{"2026-02-29", ""},
		{"2026-13-01", ""},
		{"2026-00-10", ""},
		{"2026-04-31", ""},
		{"0000-01-01", ""},
		{"2026-3-8", ""},
		{"2026/03/08", ""},
		{"+026-03-08", ""},
		{"2026-03-08T00:00:00Z", ""},
		{" 2026-03-08", ""},
		{"", ""},
	}
	for _, tt := range tests {
		d, err := booking.ParseDate(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseDate(%q) = %v, want an error", tt.in, d)
			}
			continue
		}
		if err != nil || d.String() != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %s", tt.in, d, err, tt.want)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-03-07", 1, "2026-03-08"},
		{"2026-03-08", 1, "2026-03-09"}, // a 23-hour day in LA, still one day
		{"2026-12-31", 1, "2027-01-01"},
		{"2024-02-28", 1, "2024-02-29"},
		{"2026-03-01", -1, "2026-02-28"},
		{"2026-01-01", 365, "2027-01-01"},
	}
	for _, tt := range tests {
		from := date(t, tt.from)
		if got := from.AddDays(tt.n).String(); got != tt.want {
			t.Errorf("%s.AddDays(%d) = %s, want %s", tt.from, tt.n, got, tt.want)
		}
		if got := from.DaysUntil(date(t, tt.want)); got != tt.n {
			t.Errorf("%s.DaysUntil(%s) = %d, want %d", tt.from, tt.want, got, tt.n)
		}
	}
	a, b := date(t, "2026-03-08"), date(t, "2026-03-09")
	if !a.Before(b) || a.After(b) || !b.After(a) || a.Equal(b) || !a.Equal(a) {
		t.Errorf("comparisons of %s and %s are wrong", a, b)
	}
	if got, want := a.Weekday(), time.Sunday; got != want {
		t.Errorf("%s.Weekday() = %v, want %v", a, got, want)
	}
	if got, want := booking.DateOf(instant(t, "2026-12-02T01:00:00Z"), zone(t, "America/Los_Angeles")).String(), "2026-12-01"; got != want {
		t.Errorf("DateOf = %s, want %s", got, want)
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in      string
		want    string // "" when ParseClock must reject it
		wantEnd string // "" when ParseEndClock must reject it
	}{
		{"00:00", "00:00", ""},
		{"09:00", "09:00", "09:00"},
		{"23:59", "23:59", "23:59"},
		{"24:00", "", "24:00"},
		{"24:01", "", ""},
		{"25:00", "", ""},
		{"12:60", "", ""},
		{"9:00", "", ""},
		{"09:00:00", "", ""},
		{"09h00", "", ""},
		{"-1:00", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		for _, p := range []struct {
			name  string
			parse func(string) (booking.Clock, error)
			want  string
		}{{"ParseClock", booking.ParseClock, tt.want}, {"ParseEndClock", booking.ParseEndClock, tt.wantEnd}} {
			c, err := p.parse(tt.in)
			switch {
			case p.want == "" && err == nil:
				t.Errorf("%s(%q) = %v, want an error", p.name, tt.in, c)
			case p.want != "" && (err != nil || c.String() != p.want):
				t.Errorf("%s(%q) = %v, %v; want %s", p.name, tt.in, c, err, p.want)
			}
		}
	}
}

func TestParseInstant(t *testing.T) {
	tests := []struct {
		in   string
		want string // UTC; "" when in must be rejected
	}{
		{"2026-12-01T09:00:00-08:00", "2026-12-01T17:00:00Z"},
		{"2026-12-01T09:00:00Z", "2026-12-01T09:00:00Z"},
		{"2026-12-01T09:00:00.5+01:00", "2026-12-01T08:00:00.5Z"},
		{"2026-12-01T09:00:00", ""},
		{"2026-12-01 09:00:00Z", ""},
		{"2026-12-01T09:00:00+0800", ""},
		{"2026-12-01", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := booking.ParseInstant(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseInstant(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339Nano) != tt.want || got.Location() != time.UTC {
			t.Errorf("ParseInstant(%q) = %v, %v; want %s in UTC", tt.in, got, err, tt.want)
		}
	}
}

func TestParseTimezone(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"America/Los_Angeles", true},
		{"Europe/Berlin", true},
		{"UTC", true},
		{"", false},
		{"Local", false},
		{"Mars/Olympus", false},
		{" Europe/Berlin", false},
		{"../../etc/passwd", false},
		{"/etc/localtime", false},
	}
	for _, tt := range tests {
		loc, err := booking.ParseTimezone(tt.in)
		if got := err == nil; got != tt.ok {
			t.Errorf("ParseTimezone(%q) ok = %v, want %v (err %v)", tt.in, got, tt.ok, err)
		}
		if tt.ok && (loc == nil || loc.String() != tt.in) {
			t.Errorf("ParseTimezone(%q) = %v, want that zone", tt.in, loc)
		}
	}
}

func TestDateAt(t *testing.T) {
	tests := []struct {
		tz, date, clock string
		want            string // RFC 3339 in the zone; "" for a wall time that does not exist
	}{
		{"America/Los_Angeles", "2026-03-07", "09:00", "2026-03-07T09:00:00-08:00"},
		{"America/Los_Angeles", "2026-03-08", "01:59", "2026-03-08T01:59:00-08:00"},
		{"America/Los_Angeles", "2026-03-08", "02:00", ""},
		{"America/Los_Angeles", "2026-03-08", "02:59", ""},
		{"America/Los_Angeles", "2026-03-08", "03:00", "2026-03-08T03:00:00-07:00"},
		{"America/Los_Angeles", "2026-03-08", "09:00", "2026-03-08T09:00:00-07:00"},
		{"America/Los_Angeles", "2026-11-01", "01:00", "2026-11-01T01:00:00-07:00"}, // first of two
		{"America/Los_Angeles", "2026-11-01", "01:59", "2026-11-01T01:59:00-07:00"},
		{"America/Los_Angeles", "2026-11-01", "02:00", "2026-11-01T02:00:00-08:00"},
		{"America/Los_Angeles", "2026-11-01", "09:00", "2026-11-01T09:00:00-08:00"},
		{"Europe/Berlin", "2026-03-29", "01:59", "2026-03-29T01:59:00+01:00"},
		{"Europe/Berlin", "2026-03-29", "02:30", ""},
		{"Europe/Berlin", "2026-03-29", "03:00", "2026-03-29T03:00:00+02:00"},
		{"Europe/Berlin", "2026-10-25", "02:00", "2026-10-25T02:00:00+02:00"}, // first of two
		{"Europe/Berlin", "2026-10-25", "02:59", "2026-10-25T02:59:00+02:00"},
		{"Europe/Berlin", "2026-10-25", "03:00", "2026-10-25T03:00:00+01:00"},
		{"UTC", "2026-12-31", "24:00", "2027-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		loc := zone(t, tt.tz)
		got, ok := date(t, tt.date).At(clock(t, tt.clock), loc)
		if tt.want == "" {
			if ok {
				t.Errorf("%s %s in %s = %v, want ok=false (skipped by DST)", tt.date, tt.clock, tt.tz, got)
			}
			continue
		}
		if !ok || got.Format(time.RFC3339) != tt.want {
			t.Errorf("%s %s in %s = %v, %v; want %s", tt.date, tt.clock, tt.tz, got.Format(time.RFC3339), ok, tt.want)
		}
	}
}
