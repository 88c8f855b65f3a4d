package booking

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Window is one weekly stretch of availability, such as Monday 09:00-12:00,
// in the wall-clock time of the schedule's location. End may be EndOfDay.
type Window struct {
	Weekday    time.Weekday
	Start, End Clock
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday,
	"saturday": time.Saturday,
}

// ParseWeekday parses a weekday as the API spells it: "monday" to "sunday",
// in lower case. It returns an error, whose message can be shown as a field
// message, for anything else.
func ParseWeekday(s string) (time.Weekday, error) {
	if d, ok := weekdays[s]; ok {
		return d, nil
	}
	return 0, errors.New("must be a weekday in lower case, such as monday")
}

// WeekdayName returns d as the API spells it, such as "monday".
func WeekdayName(d time.Weekday) string { return strings.ToLower(d.String()) }

// Schedule is a weekly availability template of one provider at one
// location for one consultation type, from which slots are generated.
type Schedule struct {
	ID                 uuid.UUID
	ProviderID         uuid.UUID
	LocationID         uuid.UUID
	ConsultationTypeID uuid.UUID
	SlotMinutes        int
	Capacity           int // places in each generated slot
	ValidFrom          Date
	ValidTo            *Date // nil: open-ended
	Windows            []Window
	Active             bool
	// GeneratedThrough is the last day through which the rolling
	// generation has made the schedule's slots (nil: not yet). The store
	// keeps it; callers only read it.
	GeneratedThrough *Date
	CreatedAt        time.Time
}

// Schedule limits. MaxGenerateDays bounds one Occurrences call, and so one
// generate request, to a year.
const (
	MaxCapacity     = 100
	MaxWindows      = 50
	MaxGenerateDays = 366
)

// Validate checks the schedule and returns a *ValidationError naming every
// wrong JSON field: provider_id, location_id, consultation_type_id (set),
// slot_minutes (5 to 480), capacity (1 to 100), valid_from (set), valid_to
// (not before valid_from), windows (1 to 50), and per window
// "windows[i].weekday", "windows[i].start" and "windows[i].end" (start before
// end, at least one slot long, not overlapping another window of the same
// weekday).
func (s Schedule) Validate() error {
	var p Problems
	p.Check(s.ProviderID != uuid.Nil, "provider_id", FieldRequired, "is required")
	p.Check(s.LocationID != uuid.Nil, "location_id", FieldRequired, "is required")
	p.Check(s.ConsultationTypeID != uuid.Nil, "consultation_type_id", FieldRequired, "is required")
	checkRange(&p, "slot_minutes", s.SlotMinutes, MinSlotMinutes, MaxSlotMinutes)
	checkRange(&p, "capacity", s.Capacity, 1, MaxCapacity)
	if p.Check(!s.ValidFrom.IsZero(), "valid_from", FieldRequired, "is required") && s.ValidTo != nil {
		p.Check(!s.ValidTo.Before(s.ValidFrom), "valid_to", FieldOutOfOrder, "must not be before valid_from")
	}
	switch {
	case len(s.Windows) == 0:
		p.AddLimit("windows", FieldTooFew, 1, "must have at least one window")
	case len(s.Windows) > MaxWindows:
		p.AddLimit("windows", FieldTooMany, MaxWindows, fmt.Sprintf("must have at most %d windows", MaxWindows))
	}
	if len(s.Windows) > MaxWindows {
		return p.Err()
	}
	for i, w := range s.Windows {
		field := fmt.Sprintf("windows[%d]", i)
		if !p.Check(w.Weekday >= time.Sunday && w.Weekday <= time.Saturday, field+".weekday", FieldFormat, "must be a weekday") {
			continue
		}
		if !p.Check(w.Start >= 0 && w.Start < EndOfDay, field+".start", FieldFormat, "must be from 00:00 to 23:59") ||
			!p.Check(w.End > w.Start && w.End <= EndOfDay, field+".end", FieldOutOfOrder, "must be after start, at most 24:00") {
			continue
		}
		if s.SlotMinutes >= MinSlotMinutes && int(w.End-w.Start) < s.SlotMinutes {
			p.AddLimit(field+".end", FieldWindowTooShort, s.SlotMinutes, fmt.Sprintf("leaves no room for one %d-minute slot", s.SlotMinutes))
			continue
		}
		for j, o := range s.Windows[:i] {
			if o.Weekday == w.Weekday && w.Start < o.End && o.Start < w.End {
				p.Add(field+".start", FieldConflict, fmt.Sprintf("overlaps windows[%d] on %s", j, WeekdayName(w.Weekday)))
				break
			}
		}
	}
	return p.Err()
}

// Interval is a half-open span of time [Start, End) in UTC.
type Interval struct {
	Start, End time.Time
}

// Occurrences returns the slot intervals the schedule yields on the days
// from..to (inclusive) that fall within its validity, in chronological order,
// with loc the location's time zone (UTC when nil). It ignores Active: whether
// an inactive schedule may generate is the caller's rule.
//
// In each window, slot starts step by SlotMinutes of wall-clock time from the
// window's start while the slot's wall-clock end stays within the window, so
// a 09:00 window starts at 09:00 local on both sides of a DST change. A start
// that DST skips is left out; a start in the repeated autumn hour is taken
// once, at its first occurrence. Each End is Start plus SlotMinutes of real
// time. Next to a DST change a slot could then run into the next start; that
// next slot is left out, so one schedule never yields overlapping slots.
//
// It returns a *ValidationError when the schedule is not valid (see Validate)
// or, naming "to", when to is before from or the range spans more than
// MaxGenerateDays days.
func (s Schedule) Occurrences(from, to Date, loc *time.Location) ([]Interval, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var p Problems
	checkSpan(&p, from, to, MaxGenerateDays)
	if err := p.Err(); err != nil {
		return nil, err
	}
	first, last := from, to
	if first.Before(s.ValidFrom) {
		first = s.ValidFrom
	}
	if s.ValidTo != nil && last.After(*s.ValidTo) {
		last = *s.ValidTo
	}
	// Windows in start order make the output chronological, which the
	// overlap guard below relies on.
	windows := slices.Clone(s.Windows)
	slices.SortFunc(windows, func(a, b Window) int { return cmp.Compare(a.Start, b.Start) })
	step := Clock(s.SlotMinutes)
	length := time.Duration(s.SlotMinutes) * time.Minute

	var out []Interval
	var lastEnd time.Time
	for d := first; !d.After(last); d = d.AddDays(1) {
		for _, w := range windows {
			if w.Weekday != d.Weekday() {
				continue
			}
			for c := w.Start; c+step <= w.End; c += step {
				start, ok := d.At(c, loc)
				if !ok || start.Before(lastEnd) {
					continue
				}
				lastEnd = start.Add(length)
				out = append(out, Interval{Start: start.UTC(), End: lastEnd.UTC()})
			}
		}
	}
	return out, nil
}

// checkSpan records a problem on "to" when to is before from or the days
// from..to (inclusive) are more than maxDays; maxDays < 1 means no limit.
func checkSpan(p *Problems, from, to Date, maxDays int) {
	switch {
	case to.Before(from):
		p.Add("to", FieldOutOfOrder, "must not be before from")
	case maxDays > 0 && from.DaysUntil(to)+1 > maxDays:
		p.AddLimit("to", FieldRangeTooLong, maxDays, fmt.Sprintf("the range may cover at most %d days", maxDays))
	}
}

// DaysAhead returns the days the rolling generation has still to make so
// that the schedule is generated through the date, in loc, of now+ahead
// (clipped to ValidTo): from the day after GeneratedThrough, or from now's
// date when that is earlier or unset, through that date. ok is false when
// there is nothing to make: the schedule is inactive, past its ValidTo, or
// generated far enough already (also when ahead has been shortened since).
// Days before ValidFrom are in the span; Occurrences yields nothing on
// them.
func (s Schedule) DaysAhead(now time.Time, ahead time.Duration, loc *time.Location) (from, through Date, ok bool) {
	if !s.Active {
		return Date{}, Date{}, false
	}
	from = DateOf(now, loc)
	through = DateOf(now.Add(ahead), loc)
	if s.ValidTo != nil && s.ValidTo.Before(through) {
		through = *s.ValidTo
	}
	if s.GeneratedThrough != nil && !s.GeneratedThrough.Before(from) {
		from = s.GeneratedThrough.AddDays(1)
	}
	return from, through, !from.After(through)
}
