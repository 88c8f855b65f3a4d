package booking

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"
)

// MaxAvailabilityDays bounds the date range of one availability query.
const MaxAvailabilityDays = 62

// Day is the slots of one local calendar day in one time zone.
type Day struct {
	Date     Date
	Timezone string
	Slots    []Slot
}

// GroupByLocalDay groups slots by their start's calendar date at their
// location, whose zone and IANA name zone returns (a nil zone counts as UTC).
// Days come in date order, then by time zone name; slots within a day by
// start, then ID, so the output is the same whatever the input order.
func GroupByLocalDay(slots []Slot, zone func(locationID uuid.UUID) (*time.Location, string)) []Day {
	type zoneInfo struct {
		loc  *time.Location
		name string
	}
	type key struct {
		date Date
		tz   string
	}
	zones := map[uuid.UUID]zoneInfo{}
	index := map[key]int{}
	var days []Day
	for _, s := range slots {
		z, ok := zones[s.LocationID]
		if !ok {
			z.loc, z.name = zone(s.LocationID)
			if z.loc == nil {
				z.loc, z.name = time.UTC, "UTC"
			}
			zones[s.LocationID] = z
		}
		k := key{DateOf(s.StartAt, z.loc), z.name}
		i, ok := index[k]
		if !ok {
			i = len(days)
			index[k] = i
			days = append(days, Day{Date: k.date, Timezone: k.tz})
		}
		days[i].Slots = append(days[i].Slots, s)
	}
	slices.SortFunc(days, func(a, b Day) int {
		if c := a.Date.Compare(b.Date); c != 0 {
			return c
		}
		return cmp.Compare(a.Timezone, b.Timezone)
	})
	for _, d := range days {
		slices.SortFunc(d.Slots, func(a, b Slot) int {
			if c := a.StartAt.Compare(b.StartAt); c != 0 {
				return c
			}
			return bytes.Compare(a.ID[:], b.ID[:])
		})
	}
	return days
}

// DateRange is an inclusive range of calendar days, each read in the time
// zone of whatever it is compared with.
type DateRange struct {
	From, To Date
}

// ParseDateRange parses the query parameters from and to (YYYY-MM-DD, both
// required). It returns a *ValidationError naming "from" and "to" when
// either is missing or malformed, and "to" when it is before from or the
// range covers more than maxDays days (maxDays < 1: no limit).
func ParseDateRange(from, to string, maxDays int) (DateRange, error) {
	var p Problems
	var r DateRange
	parse := func(field, s string) (Date, bool) {
		if s == "" {
			p.Add(field, FieldRequired, "is required")
			return Date{}, false
		}
		d, err := ParseDate(s)
		return d, p.Check(err == nil, field, FieldFormat, errDate.Error())
	}
	var okFrom, okTo bool
	r.From, okFrom = parse("from", from)
	r.To, okTo = parse("to", to)
	if okFrom && okTo {
		checkSpan(&p, r.From, r.To, maxDays)
	}
	if err := p.Err(); err != nil {
		return DateRange{}, err
	}
	return r, nil
}

// zoneReach is more than the largest distance of any time zone from UTC
// (UTC-12 to UTC+14).
const zoneReach = 14 * time.Hour

// Window returns a UTC instant range [start, end) wide enough to hold every
// instant that falls on one of r's days in some time zone: From's midnight
// UTC minus 14h to the midnight UTC after To plus 14h. Fetch slots in it,
// then keep those Contains accepts in their location's zone.
func (r DateRange) Window() (start, end time.Time) {
	return r.From.midnightUTC().Add(-zoneReach), r.To.AddDays(1).midnightUTC().Add(zoneReach)
}

// Contains reports whether t falls on one of r's days in loc (UTC when nil):
// within r.Instants(loc).
func (r DateRange) Contains(t time.Time, loc *time.Location) bool {
	start, end := r.Instants(loc)
	return !t.Before(start) && t.Before(end)
}
