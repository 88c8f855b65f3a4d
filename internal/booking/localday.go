package booking

import "time"

// This file holds the one meaning of "a local calendar day" that every
// route uses: availability, the slot list, the booking list and its CSV day
// sheet, a patient's bookings and the front-desk rules. A day in a zone is
// the UTC instant range [its start, the next day's start), where a day's
// start is the first instant whose wall clock in the zone reads that date.
// That is midnight, except on the days a DST change skips midnight (the day
// then starts at the change, such as 01:00) or repeats it (the first
// midnight); so a local day lasts 23, 24 or 25 hours, and consecutive days
// tile time with no gap and no overlap.

// StartIn returns the first instant of day d in loc (UTC when nil).
func (d Date) StartIn(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if t, ok := d.At(0, loc); ok {
		// At returns the earlier of two midnights, which is where the day
		// begins when a DST change repeats midnight.
		return t.UTC()
	}
	// Midnight is skipped: the clocks jumped from the day before straight
	// into d. Read midnight with the offset in effect before the change: that
	// instant lies after the change, in the period the change began.
	naive := d.midnightUTC()
	_, before := naive.Add(-26 * time.Hour).In(loc).Zone()
	start, _ := naive.Add(-time.Duration(before) * time.Second).In(loc).ZoneBounds()
	return start.UTC()
}

// LocalDay returns the UTC instant range [start, end) of day d in loc: from
// d's first instant to the next day's first instant.
func LocalDay(d Date, loc *time.Location) (start, end time.Time) {
	return d.StartIn(loc), d.AddDays(1).StartIn(loc)
}

// Instants returns the UTC instant range [start, end) covered by r's days in
// loc: from From's first instant to the first instant of the day after To.
func (r DateRange) Instants(loc *time.Location) (start, end time.Time) {
	return r.From.StartIn(loc), r.To.AddDays(1).StartIn(loc)
}

// DayEnd returns the end of the local day, in loc, on which t falls: the
// first instant of the next day.
func DayEnd(t time.Time, loc *time.Location) time.Time {
	return DateOf(t, loc).AddDays(1).StartIn(loc)
}
