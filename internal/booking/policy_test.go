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

// TestBookableStarts: the booking window at now and its inverse, the
// moments a slot is bookable, agree with PublicBookable at their edges,
// both included; with no MaxAdvance there is no latest start (and no first
// moment).
func TestBookableStarts(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name                   string
		minNotice, maxAdvance  time.Duration
		wantEarliest, wantLast time.Time
	}{
		{"defaults", 2 * time.Hour, 120 * 24 * time.Hour, now.Add(2 * time.Hour), now.Add(120 * 24 * time.Hour)},
		{"no notice", 0, 30 * 24 * time.Hour, now, now.Add(30 * 24 * time.Hour)},
		{"no limit ahead", time.Hour, 0, now.Add(time.Hour), time.Time{}},
		{"negative limit ahead", time.Hour, -time.Hour, now.Add(time.Hour), time.Time{}},
	}
	for _, tt := range tests {
		p := booking.Policy{MinNotice: tt.minNotice, MaxAdvance: tt.maxAdvance}
		earliest, latest := p.BookableStarts(now)
		if !earliest.Equal(tt.wantEarliest) || !latest.Equal(tt.wantLast) {
			t.Errorf("%s: BookableStarts = %v, %v, want %v, %v", tt.name, earliest, latest, tt.wantEarliest, tt.wantLast)
		}
		open := func(start time.Time) booking.Slot {
			return booking.Slot{Status: booking.SlotOpen, Capacity: 1, StartAt: start}
		}
		for _, c := range []struct {
			start time.Time
			want  bool
		}{
			{earliest, true},
			{earliest.Add(-time.Nanosecond), false},
			{latest, !latest.IsZero()},
			{latest.Add(time.Nanosecond), latest.IsZero()},
			{now.Add(10 * 365 * 24 * time.Hour), latest.IsZero()},
		} {
			if c.start.Before(now) {
				continue // the zero latest: no start that far back is asked about
			}
			if got := p.PublicBookable(open(c.start), now); got != c.want {
				t.Errorf("%s: PublicBookable(start %v) = %v, want %v", tt.name, c.start, got, c.want)
			}
		}

		// The inverse: a slot starting at earliest is bookable until now,
		// one starting at latest from now.
		if _, until := p.BookableDuring(earliest); !until.Equal(now) {
			t.Errorf("%s: BookableDuring(earliest) until %v, want %v", tt.name, until, now)
		}
		start := now.Add(200 * 24 * time.Hour)
		from, _ := p.BookableDuring(start)
		if latest.IsZero() {
			if !from.IsZero() {
				t.Errorf("%s: BookableDuring from %v, want the zero time (no limit)", tt.name, from)
			}
			continue
		}
		if _, l := p.BookableStarts(from); !l.Equal(start) {
			t.Errorf("%s: BookableStarts(BookableDuring(%v) from) latest %v, want %v", tt.name, start, l, start)
		}
		if !p.PublicBookable(open(start), from) || p.PublicBookable(open(start), from.Add(-time.Nanosecond)) {
			t.Errorf("%s: PublicBookable at from %v: want true there and false a nanosecond before", tt.name, from)
		}
	}
}
