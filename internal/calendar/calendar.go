// Package calendar writes iCalendar files (RFC 5545): a list of events,
// each in its location's time zone, with a VTIMEZONE for every zone used,
// generated from Go's time zone database for the years the events span, so
// that calendar programs place the events right on both sides of a DST
// change without knowing the zone themselves. It serves the patient's file
// for one booking and any feed that lists several.
package calendar

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	ics "github.com/arran4/golang-ical"
)

// Status is an event's STATUS.
type Status string

// Event statuses.
const (
	Tentative Status = "TENTATIVE"
	Confirmed Status = "CONFIRMED"
	Cancelled Status = "CANCELLED"
)

// Method is the calendar's METHOD.
type Method string

// Methods: Publish for a file to import, Cancel to withdraw events that were
// published before (calendar programs remove them).
const (
	Publish Method = "PUBLISH"
	Cancel  Method = "CANCEL"
)

// Event is one appointment.
type Event struct {
	UID      string // stable for the appointment, across all its changes
	Sequence int    // grows with each change
	Status   Status
	Start    time.Time
	End      time.Time
	Zone     *time.Location // where the appointment is; DTSTART/DTEND carry its TZID
	Summary  string
	Location string
	// Description is free text; never put health information here.
	Description string
	// Language is the language of Summary, Location and Description (an
	// RFC 5646 tag such as "es", sent as their LANGUAGE parameter); empty:
	// unsaid.
	Language string
	Updated  time.Time // DTSTAMP and LAST-MODIFIED
}

// Calendar is a file of events.
type Calendar struct {
	ProductID string // PRODID, such as "-//Clinic//Booking//EN"
	Method    Method // default Publish
	Name      string // X-WR-CALNAME, optional
	// Organizer is a mailto: address, optional; CANCEL files should have
	// one.
	Organizer string
	// RefreshInterval, for a feed that calendar apps subscribe to, asks
	// them to fetch it again this often (REFRESH-INTERVAL, RFC 7986, and
	// X-PUBLISHED-TTL, which Outlook and Apple Calendar read); zero: unsaid.
	RefreshInterval time.Duration
	Events          []Event
}

// localFormat is an iCalendar local DATE-TIME, read with a TZID.
const localFormat = "20060102T150405"

// Encode writes c as an iCalendar file.
func Encode(c Calendar) ([]byte, error) {
	cal := ics.NewCalendarFor("clinic")
	if c.ProductID != "" {
		cal.SetProductId(c.ProductID)
	}
	method := c.Method
	if method == "" {
		method = Publish
	}
	cal.SetMethod(ics.Method(method))
	cal.SetCalscale("GREGORIAN")
	if c.Name != "" {
		cal.SetXWRCalName(c.Name)
	}
	if c.RefreshInterval > 0 {
		d := fmt.Sprintf("PT%dM", max(int(c.RefreshInterval.Minutes()), 1))
		cal.SetRefreshInterval(d) // the library adds VALUE=DURATION
		cal.SetXPublishedTTL(d)
	}
	// One VTIMEZONE per zone, covering the years of that zone's events.
	type span struct {
		loc      *time.Location
		from, to int
	}
	zones := map[string]*span{}
	for _, e := range c.Events {
		if e.Zone == nil {
			return nil, fmt.Errorf("calendar: event %s has no time zone", e.UID)
		}
		y0, y1 := e.Start.In(e.Zone).Year(), e.End.In(e.Zone).Year()
		if z, ok := zones[e.Zone.String()]; ok {
			z.from, z.to = min(z.from, y0), max(z.to, y1)
		} else {
			zones[e.Zone.String()] = &span{e.Zone, y0, y1}
		}
	}
	names := make([]string, 0, len(zones))
	for n := range zones {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		z := zones[n]
		addTimezone(cal, z.loc, z.from, z.to)
	}
	for _, e := range c.Events {
		ev := cal.AddEvent(e.UID)
		updated := e.Updated
		if updated.IsZero() {
			updated = time.Now()
		}
		ev.SetDtStampTime(updated)
		ev.SetModifiedAt(updated)
		ev.SetSequence(e.Sequence)
		ev.SetStatus(ics.ObjectStatus(e.Status))
		tzid := e.Zone.String()
		ev.SetProperty(ics.ComponentPropertyDtStart, e.Start.In(e.Zone).Format(localFormat), ics.WithTZID(tzid))
		ev.SetProperty(ics.ComponentPropertyDtEnd, e.End.In(e.Zone).Format(localFormat), ics.WithTZID(tzid))
		var lang []ics.PropertyParameter
		if e.Language != "" {
			lang = append(lang, &ics.KeyValues{Key: string(ics.ParameterLanguage), Value: []string{e.Language}})
		}
		ev.SetSummary(e.Summary, lang...)
		if e.Location != "" {
			ev.SetLocation(e.Location, lang...)
		}
		if e.Description != "" {
			ev.SetDescription(e.Description, lang...)
		}
		if c.Organizer != "" {
			ev.SetOrganizer(c.Organizer)
		}
		ev.SetProperty(ics.ComponentPropertyTransp, "OPAQUE")
	}
	var buf bytes.Buffer
	// RFC 5545 lines end in CRLF.
	if err := cal.SerializeTo(&buf, ics.WithNewLine("\r\n")); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return buf.Bytes(), nil
}

// addTimezone adds loc's VTIMEZONE with every offset change from the start
// of year from-1 to the end of year to+1 (the margin covers readers that
// look at the neighbouring years), each as a STANDARD or DAYLIGHT component
// whose DTSTART is the wall-clock time of the change in the offset before
// it, as RFC 5545 wants.
func addTimezone(cal *ics.Calendar, loc *time.Location, from, to int) {
	tz := cal.AddTimezone(loc.String())
	start := time.Date(from-1, 1, 1, 0, 0, 0, 0, loc)
	end := time.Date(to+2, 1, 1, 0, 0, 0, 0, loc)
	// The offset in force at the start of the range, as the first
	// observance, so a reader has an answer before the first change.
	name, off := start.Zone()
	t := start
	first := true
	for {
		_, next := t.ZoneBounds()
		if first {
			add(tz, start.IsDST(), name, off, off, start)
			first = false
		}
		if next.IsZero() || !next.Before(end) {
			return
		}
		toName, toOff := next.Zone()
		_, fromOff := next.Add(-time.Second).Zone()
		// Wall-clock time of the change, read in the old offset.
		wall := next.In(time.FixedZone("", fromOff))
		add(tz, next.IsDST(), toName, fromOff, toOff, wall)
		t = next
	}
}

func add(tz *ics.VTimezone, dst bool, name string, fromOff, toOff int, wall time.Time) {
	var cb *ics.ComponentBase
	if dst {
		d := &ics.Daylight{}
		tz.Components = append(tz.Components, d)
		cb = &d.ComponentBase
	} else {
		s := tz.AddStandard()
		cb = &s.ComponentBase
	}
	cb.SetProperty(ics.ComponentProperty(ics.PropertyDtstart), wall.Format(localFormat))
	cb.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), offset(fromOff))
	cb.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), offset(toOff))
	if name != "" && name[0] != '+' && name[0] != '-' {
		cb.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
	}
}

// offset formats seconds east of UTC as RFC 5545's UTC-OFFSET, such as
// -0800 or +053000.
func offset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	if s != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, h, m, s)
	}
	return fmt.Sprintf("%c%02d%02d", sign, h, m)
}
