package booking_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

func schedule(t *testing.T, slotMinutes int, windows ...booking.Window) booking.Schedule {
	t.Helper()
	return booking.Schedule{
		ID: uuid.New(), ProviderID: uuid.New(), LocationID: uuid.New(), ConsultationTypeID: uuid.New(),
		SlotMinutes: slotMinutes, Capacity: 1, ValidFrom: date(t, "2026-01-01"),
		Windows: windows, Active: true,
	}
}

func window(t *testing.T, day time.Weekday, start, end string) booking.Window {
	t.Helper()
	return booking.Window{Weekday: day, Start: clock(t, start), End: clock(t, end)}
}

func TestParseWeekday(t *testing.T) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		got, err := booking.ParseWeekday(booking.WeekdayName(d))
		if err != nil || got != d {
			t.Errorf("ParseWeekday(%q) = %v, %v; want %v", booking.WeekdayName(d), got, err, d)
		}
	}
	for _, bad := range []string{"", "Monday", "mon", "funday"} {
		if _, err := booking.ParseWeekday(bad); err == nil {
			t.Errorf("ParseWeekday(%q) succeeded, want an error", bad)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	validTo := date(t, "2025-12-31")
	tests := []struct {
		name   string
		change func(*booking.Schedule)
		want   []string
	}{
		{"valid", func(*booking.Schedule) {}, nil},
		{"window to midnight", func(s *booking.Schedule) {
			s.Windows = []booking.Window{window(t, time.Friday, "20:00", "24:00")}
		}, nil},
		{"adjacent windows", func(s *booking.Schedule) {
			s.Windows = append(s.Windows, window(t, time.Monday, "12:00", "13:00"))
		}, nil},
		{"same hours on another day", func(s *booking.Schedule) {
			s.Windows = append(s.Windows, window(t, time.Tuesday, "09:00", "12:00"))
		}, nil},
		{"missing ids and limits", func(s *booking.Schedule) {
			*s = booking.Schedule{SlotMinutes: 481, Capacity: 101}
		}, []string{"capacity", "consultation_type_id", "location_id", "provider_id", "slot_minutes", "valid_from", "windows"}},
		{"too small", func(s *booking.Schedule) { s.SlotMinutes, s.Capacity = 4, 0 }, []string{"capacity", "slot_minutes"}},
		{"valid_to before valid_from", func(s *booking.Schedule) { s.ValidTo = &validTo }, []string{"valid_to"}},
		{"bad windows", func(s *booking.Schedule) {
			s.Windows = []booking.Window{
				window(t, time.Monday, "09:00", "12:00"),
				window(t, time.Monday, "12:00", "09:00"),       // end before start
				window(t, time.Monday, "13:00", "13:30"),       // shorter than a slot
				window(t, time.Monday, "11:00", "13:00"),       // overlaps [0]
				{Weekday: 7, Start: 600, End: 660},             // no such weekday
				{Weekday: time.Sunday, Start: 1440, End: 1440}, // starts at 24:00
			}
		}, []string{"windows[1].end", "windows[2].end", "windows[3].start", "windows[4].weekday", "windows[5].start"}},
	}
	for _, tt := range tests {
		s := schedule(t, 45, window(t, time.Monday, "09:00", "12:00"))
		tt.change(&s)
		if got := fields(t, s.Validate()); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Validate fields = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestOccurrencesDST proves rule 4 of docs/product.md: schedules stay on local wall-clock
// time across DST changes, skip a start DST skips, and never double one in
// the repeated hour. Wants are RFC 3339 in the location's zone, which names
// the wall time and the instant at once.
func TestOccurrencesDST(t *testing.T) {
	tests := []struct {
		name       string
		tz         string
		from, to   string
		slot       int
		start, end string
		want       []string
	}{
		{"LA 09:00 across spring forward", "America/Los_Angeles", "2026-03-07", "2026-03-08", 60, "09:00", "10:00",
			[]string{"2026-03-07T09:00:00-08:00", "2026-03-08T09:00:00-07:00"}},
		{"LA 09:00 across fall back", "America/Los_Angeles", "2026-10-31", "2026-11-01", 60, "09:00", "10:00",
			[]string{"2026-10-31T09:00:00-07:00", "2026-11-01T09:00:00-08:00"}},
		{"Berlin 09:00 across spring forward", "Europe/Berlin", "2026-03-28", "2026-03-29", 60, "09:00", "10:00",
			[]string{"2026-03-28T09:00:00+01:00", "2026-03-29T09:00:00+02:00"}},
		{"Berlin 09:00 across fall back", "Europe/Berlin", "2026-10-24", "2026-10-25", 60, "09:00", "10:00",
			[]string{"2026-10-24T09:00:00+02:00", "2026-10-25T09:00:00+01:00"}},
		{"LA gap, 60-minute slots", "America/Los_Angeles", "2026-03-08", "2026-03-08", 60, "01:00", "04:00",
			[]string{"2026-03-08T01:00:00-08:00", "2026-03-08T03:00:00-07:00"}},
		{"LA gap, 30-minute slots", "America/Los_Angeles", "2026-03-08", "2026-03-08", 30, "01:00", "04:00",
			[]string{"2026-03-08T01:00:00-08:00", "2026-03-08T01:30:00-08:00", "2026-03-08T03:00:00-07:00", "2026-03-08T03:30:00-07:00"}},
		{"LA gap, 45-minute slot would overlap the next", "America/Los_Angeles", "2026-03-08", "2026-03-08", 45, "01:00", "04:00",
			// 01:45 PST ends at 03:30 PDT, after 03:15 PDT starts.
			[]string{"2026-03-08T01:00:00-08:00", "2026-03-08T01:45:00-08:00"}},
		{"LA repeated hour, 60-minute slots", "America/Los_Angeles", "2026-11-01", "2026-11-01", 60, "01:00", "03:00",
			[]string{"2026-11-01T01:00:00-07:00", "2026-11-01T02:00:00-08:00"}},
		{"LA repeated hour, 30-minute slots", "America/Los_Angeles", "2026-11-01", "2026-11-01", 30, "01:00", "03:00",
			[]string{"2026-11-01T01:00:00-07:00", "2026-11-01T01:30:00-07:00", "2026-11-01T02:00:00-08:00", "2026-11-01T02:30:00-08:00"}},
		{"Berlin gap", "Europe/Berlin", "2026-03-29", "2026-03-29", 30, "02:00", "03:00", nil},
		{"Berlin gap, 60-minute slots", "Europe/Berlin", "2026-03-29", "2026-03-29", 60, "01:00", "04:00",
			[]string{"2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00"}},
		{"Berlin repeated hour", "Europe/Berlin", "2026-10-25", "2026-10-25", 30, "02:00", "03:00",
			[]string{"2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00"}},
		{"Berlin repeated hour, 60-minute slots", "Europe/Berlin", "2026-10-25", "2026-10-25", 60, "01:00", "04:00",
			[]string{"2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T03:00:00+01:00"}},
	}
	for _, tt := range tests {
		loc := zone(t, tt.tz)
		var windows []booking.Window
		for d := time.Sunday; d <= time.Saturday; d++ {
			windows = append(windows, window(t, d, tt.start, tt.end))
		}
		got, err := schedule(t, tt.slot, windows...).Occurrences(date(t, tt.from), date(t, tt.to), loc)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var starts []string
		for _, iv := range got {
			starts = append(starts, iv.Start.In(loc).Format(time.RFC3339))
			if iv.Start.Location() != time.UTC || iv.End.Location() != time.UTC {
				t.Errorf("%s: interval %v is not in UTC", tt.name, iv)
			}
			if got, want := iv.End.Sub(iv.Start), time.Duration(tt.slot)*time.Minute; got != want {
				t.Errorf("%s: slot at %v lasts %v, want %v", tt.name, iv.Start, got, want)
			}
		}
		if !slices.Equal(starts, tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.name, starts, tt.want)
		}
	}
}

func TestOccurrencesRange(t *testing.T) {
	validTo := date(t, "2026-12-10")
	s := schedule(t, 60, window(t, time.Tuesday, "09:00", "11:00"), window(t, time.Tuesday, "14:00", "15:00"))
	s.ValidFrom, s.ValidTo = date(t, "2026-12-02"), &validTo
	tests := []struct {
		from, to  string
		wantCount int
		wantErr   []string
	}{
		// Tuesdays 2026-12-01, 08, 15: only the 8th is within validity.
		{"2026-11-25", "2026-12-20", 3, nil},
		{"2026-12-08", "2026-12-08", 3, nil},
		{"2026-12-09", "2026-12-20", 0, nil},
		{"2026-12-08", "2026-12-07", 0, []string{"to"}},
		{"2026-01-01", "2027-01-01", 3, nil}, // 366 days
		{"2026-01-01", "2027-01-02", 0, []string{"to"}},
	}
	for _, tt := range tests {
		got, err := s.Occurrences(date(t, tt.from), date(t, tt.to), time.UTC)
		if errs := fields(t, err); !slices.Equal(errs, tt.wantErr) {
			t.Errorf("Occurrences(%s, %s) error fields = %v, want %v", tt.from, tt.to, errs, tt.wantErr)
		}
		if len(got) != tt.wantCount {
			t.Errorf("Occurrences(%s, %s) = %d intervals, want %d", tt.from, tt.to, len(got), tt.wantCount)
		}
		for i := 1; i < len(got); i++ {
			if !got[i-1].Start.Before(got[i].Start) {
				t.Errorf("Occurrences(%s, %s) not in order: %v", tt.from, tt.to, got)
			}
		}
	}
}

func TestScheduleDaysAhead(t *testing.T) {
	tokyo := zone(t, "Asia/Tokyo")
	d := func(s string) *booking.Date { v := date(t, s); return &v }
	// 2026-03-02 20:00 UTC is already 03-03 in Tokyo.
	now := instant(t, "2026-03-02T20:00:00Z")
	const ahead = 10 * 24 * time.Hour
	tests := []struct {
		name             string
		generated, valid *booking.Date
		inactive         bool
		loc              *time.Location
		from, through    string
		ok               bool
	}{
		{name: "never generated", from: "2026-03-02", through: "2026-03-12", ok: true},
		{name: "in the location's zone", loc: tokyo, from: "2026-03-03", through: "2026-03-13", ok: true},
		{name: "only the new days", generated: d("2026-03-10"), from: "2026-03-11", through: "2026-03-12", ok: true},
		{name: "up to date", generated: d("2026-03-12"), ok: false},
		{name: "ahead shortened since", generated: d("2026-04-30"), ok: false},
		{name: "stale: from today", generated: d("2026-01-31"), from: "2026-03-02", through: "2026-03-12", ok: true},
		{name: "valid_to clips", valid: d("2026-03-05"), from: "2026-03-02", through: "2026-03-05", ok: true},
		{name: "past valid_to", valid: d("2026-03-01"), ok: false},
		{name: "generated to valid_to", generated: d("2026-03-05"), valid: d("2026-03-05"), ok: false},
		{name: "inactive", inactive: true, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := schedule(t, 30, booking.Window{Weekday: time.Monday, Start: 9 * 60, End: 12 * 60})
			sc.GeneratedThrough, sc.ValidTo, sc.Active = tt.generated, tt.valid, !tt.inactive
			from, through, ok := sc.DaysAhead(now, ahead, tt.loc)
			if ok != tt.ok {
				t.Fatalf("ok: got %v, want %v", ok, tt.ok)
			}
			if ok && (from.String() != tt.from || through.String() != tt.through) {
				t.Errorf("got %s..%s, want %s..%s", from, through, tt.from, tt.through)
			}
		})
	}
}
