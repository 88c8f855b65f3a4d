package booking

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Date is a calendar date with no time of day and no time zone: a date of
// birth, or a day in a location's local calendar. The zero Date means "no
// date".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// The messages of these errors are meant to be shown to clients as the
// message of a field error, so they say what is expected.
var (
	errDate     = errors.New("must be a valid date in the form YYYY-MM-DD")
	errClock    = errors.New("must be a time of day in the form HH:MM, from 00:00 to 23:59")
	errEndClock = errors.New("must be a time of day in the form HH:MM, from 00:01 to 24:00")
	errInstant  = errors.New("must be an RFC 3339 date-time with an offset, such as 2026-12-01T09:00:00-08:00")
	errTimezone = errors.New("must be an IANA time zone name, such as America/Los_Angeles")
)

// ParseDate parses a date in the strict form YYYY-MM-DD (four-digit year from
// 0001, two-digit month and day). It returns an error, whose message can be
// shown as a field message, when s is in another form or names a day that
// does not exist, such as 2026-02-30.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, errDate
	}
	y, okY := digits(s[0:4])
	m, okM := digits(s[5:7])
	d, okD := digits(s[8:10])
	if !okY || !okM || !okD || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
		return Date{}, errDate
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, nil
}

// digits parses s as a non-negative decimal number made of ASCII digits
// only; strconv.Atoi would also take a sign.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(year int, m time.Month) int {
	// Day 0 of the next month normalises to the last day of m.
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// DateOf returns the calendar date of t in loc (UTC when loc is nil).
func DateOf(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return Date{Year: y, Month: m, Day: d}
}

// String returns the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText returns the date as YYYY-MM-DD, so that a Date is a JSON
// string.
func (d Date) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText parses a date with ParseDate and returns its error.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// IsZero reports whether d is the zero Date, "no date".
func (d Date) IsZero() bool { return d == Date{} }

// midnightUTC is d's midnight in UTC, which has no DST, so whole days can be
// added and counted on it exactly.
func (d Date) midnightUTC() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// AddDays returns the date n days after d (before d when n is negative).
func (d Date) AddDays(n int) Date {
	return DateOf(d.midnightUTC().AddDate(0, 0, n), time.UTC)
}

// DaysUntil returns the number of days from d to other: 1 for the next day,
// negative when other is before d.
func (d Date) DaysUntil(other Date) int {
	// Unix seconds rather than Sub, which saturates after 292 years.
	return int((other.midnightUTC().Unix() - d.midnightUTC().Unix()) / 86400)
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.midnightUTC().Weekday() }

// Compare returns -1, 0 or +1 as d is before, equal to or after other.
func (d Date) Compare(other Date) int {
	if c := cmp.Compare(d.Year, other.Year); c != 0 {
		return c
	}
	if c := cmp.Compare(d.Month, other.Month); c != 0 {
		return c
	}
	return cmp.Compare(d.Day, other.Day)
}

// Before reports whether d is before other.
func (d Date) Before(other Date) bool { return d.Compare(other) < 0 }

// After reports whether d is after other.
func (d Date) After(other Date) bool { return d.Compare(other) > 0 }

// Equal reports whether d and other are the same day.
func (d Date) Equal(other Date) bool { return d == other }

// At returns the instant at which clocks in loc (UTC when nil) show the wall
// time clock on date d, expressed in loc. It returns ok=false when that wall
// time does not exist, because DST skips it (the spring-forward gap). When
// the wall time happens twice (the repeated autumn hour) it returns the first,
// earlier, occurrence, so a schedule's 01:30 is the first 01:30 of the day.
//
// It builds the instant from the wall time itself, never as midnight plus a
// duration, which would be an hour off on a DST day.
func (d Date) At(clock Clock, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	// naive is the wall time read as if it were UTC. The real instant is
	// naive minus the offset in effect then; time.Date picks one offset when
	// two apply, and which one depends on the zone's side of UTC, so try the
	// offsets in effect a day either side of it and keep the earliest
	// candidate whose wall clock really is the one asked for.
	naive := time.Date(d.Year, d.Month, d.Day, 0, int(clock), 0, 0, time.UTC)
	var best time.Time
	found := false
	for _, probe := range []time.Time{naive.Add(-26 * time.Hour), naive, naive.Add(26 * time.Hour)} {
		_, offset := probe.In(loc).Zone()
		t := naive.Add(-time.Duration(offset) * time.Second).In(loc)
		if !sameWall(t, naive) {
			continue
		}
		if !found || t.Before(best) {
			best, found = t, true
		}
	}
	return best, found
}

// sameWall reports whether t's wall clock, in its own location, reads the
// same date, hour and minute as naive's in UTC.
func sameWall(t, naive time.Time) bool {
	y, m, d := t.Date()
	ny, nm, nd := naive.Date()
	return y == ny && m == nm && d == nd && t.Hour() == naive.Hour() && t.Minute() == naive.Minute()
}

// Clock is a wall-clock time of day in minutes since midnight: 0 is 00:00
// and EndOfDay, 24:00, is allowed only as the end of a window.
type Clock int

// EndOfDay is 24:00, the end of the last window of a day.
const EndOfDay Clock = 24 * 60

// ParseClock parses a time of day in the strict form HH:MM, from 00:00 to
// 23:59. It returns an error, whose message can be shown as a field message,
// for anything else.
func ParseClock(s string) (Clock, error) {
	c, ok := parseClock(s)
	if !ok || c >= EndOfDay {
		return 0, errClock
	}
	return c, nil
}

// ParseEndClock parses the end of a window: HH:MM as ParseClock, and also
// 24:00 so that a window can run to midnight. 00:00 is rejected, since no
// window can end at the start of its day. It returns an error, whose message
// can be shown as a field message, for anything else.
func ParseEndClock(s string) (Clock, error) {
	c, ok := parseClock(s)
	if !ok || c == 0 || c > EndOfDay {
		return 0, errEndClock
	}
	return c, nil
}

func parseClock(s string) (Clock, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, okH := digits(s[0:2])
	m, okM := digits(s[3:5])
	if !okH || !okM || h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, false
	}
	return Clock(h*60 + m), true
}

// String returns the clock as HH:MM (24:00 for EndOfDay).
func (c Clock) String() string {
	return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60)
}

// MarshalText returns the clock as HH:MM, so that a Clock is a JSON string.
func (c Clock) MarshalText() ([]byte, error) {
	return []byte(c.String()), nil
}

// UnmarshalText parses HH:MM from 00:00 to 24:00; whether 24:00 fits where
// it stands is for Schedule.Validate to say. It returns an error for anything
// else.
func (c *Clock) UnmarshalText(b []byte) error {
	v, ok := parseClock(string(b))
	if !ok {
		return errors.New("must be a time of day in the form HH:MM")
	}
	*c = v
	return nil
}

// ParseInstant parses an RFC 3339 date-time that carries its offset ("Z" or
// ±hh:mm), such as 2026-12-01T09:00:00-08:00, and returns it in UTC. It
// returns an error, whose message can be shown as a field message, for
// anything else, including a date-time without an offset.
func ParseInstant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errInstant
	}
	return t.UTC(), nil
}

// ParseTimezone loads the IANA time zone name, such as America/Los_Angeles.
// It returns an error, whose message can be shown as a field message, when
// the name is empty, "Local" (the server's zone, which means nothing to a
// clinic), padded with spaces, or unknown.
func ParseTimezone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || strings.TrimSpace(name) != name || len(name) > 64 {
		return nil, errTimezone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errTimezone
	}
	return loc, nil
}

// RangeOutOfOrder reports whether a from/to filter ends before it starts:
// both days with toDay before fromDay, or both instants with to before from.
// A day and an instant are not compared (the day's instants depend on each
// location's zone). Every list that takes from and to refuses such a range
// the same way.
func RangeOutOfOrder(fromDay Date, from time.Time, toDay Date, to time.Time) bool {
	if !fromDay.IsZero() && !toDay.IsZero() {
		return toDay.Before(fromDay)
	}
	if !from.IsZero() && !to.IsZero() {
		return to.Before(from)
	}
	return false
}
