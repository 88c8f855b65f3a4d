package booking_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

func TestGroupByLocalDay(t *testing.T) {
	la, tokyo := uuid.New(), uuid.New()
	zones := map[uuid.UUID]string{la: "America/Los_Angeles", tokyo: "Asia/Tokyo"}
	zoneOf := func(id uuid.UUID) (*time.Location, string) { return zone(t, zones[id]), zones[id] }
	slot := func(loc uuid.UUID, start string, id string) booking.Slot {
		at := instant(t, start).UTC()
		return booking.Slot{ID: uuid.MustParse(id), LocationID: loc, StartAt: at, EndAt: at.Add(time.Hour)}
	}
	slots := []booking.Slot{
		// 2026-12-02 in UTC, still the 1st in Los Angeles.
		slot(la, "2026-12-01T17:00:00-08:00", "00000000-0000-0000-0000-000000000003"),
		// 2026-12-01 in UTC, already the 2nd in Tokyo.
		slot(tokyo, "2026-12-02T08:00:00+09:00", "00000000-0000-0000-0000-000000000004"),
		slot(la, "2026-12-01T09:00:00-08:00", "00000000-0000-0000-0000-000000000002"),
		slot(la, "2026-12-01T09:00:00-08:00", "00000000-0000-0000-0000-000000000001"),
		slot(tokyo, "2026-12-01T09:00:00+09:00", "00000000-0000-0000-0000-000000000005"),
	}
	var got []string
	for _, d := range booking.GroupByLocalDay(slots, zoneOf) {
		line := fmt.Sprintf("%s %s:", d.Date, d.Timezone)
		for _, s := range d.Slots {
			line += fmt.Sprintf(" %s#%d", s.StartAt.In(zone(t, d.Timezone)).Format("15:04"), s.ID[15])
		}
		got = append(got, line)
	}
	want := []string{
		"2026-12-01 America/Los_Angeles: 09:00#1 09:00#2 17:00#3",
		"2026-12-01 Asia/Tokyo: 09:00#5",
		"2026-12-02 Asia/Tokyo: 08:00#4",
	}
	if !slices.Equal(got, want) {
		t.Errorf("GroupByLocalDay:\n got %q\nwant %q", got, want)
	}
	if got := booking.GroupByLocalDay(nil, zoneOf); len(got) != 0 {
		t.Errorf("GroupByLocalDay(nil) = %v, want no days", got)
	}
}

func TestParseDateRange(t *testing.T) {
	tests := []struct {
		from, to string
		want     []string
	}{
		{"2026-12-01", "2026-12-01", nil},
		{"2026-12-01", "2027-01-31", nil}, // 62 days
		{"2026-12-01", "2027-02-01", []string{"to"}},
		{"2026-12-02", "2026-12-01", []string{"to"}},
		{"", "", []string{"from", "to"}},
		{"2026-12-1", "tomorrow", []string{"from", "to"}},
	}
	for _, tt := range tests {
		r, err := booking.ParseDateRange(tt.from, tt.to, booking.MaxAvailabilityDays)
		if got := fields(t, err); !slices.Equal(got, tt.want) {
			t.Errorf("ParseDateRange(%q, %q) fields = %v, want %v", tt.from, tt.to, got, tt.want)
		}
		if err == nil && (r.From.String() != tt.from || r.To.String() != tt.to) {
			t.Errorf("ParseDateRange(%q, %q) = %v", tt.from, tt.to, r)
		}
	}
}

func TestDateRangeWindowContains(t *testing.T) {
	r := booking.DateRange{From: date(t, "2026-12-01"), To: date(t, "2026-12-02")}
	start, end := r.Window()
	if got, want := start.Format(time.RFC3339), "2026-11-30T10:00:00Z"; got != want {
		t.Errorf("Window start = %s, want %s", got, want)
	}
	if got, want := end.Format(time.RFC3339), "2026-12-03T14:00:00Z"; got != want {
		t.Errorf("Window end = %s, want %s", got, want)
	}
	tests := []struct {
		at, tz string
		want   bool
	}{
		{"2026-12-01T00:00:00+14:00", "Pacific/Kiritimati", true}, // the earliest instant of the range anywhere
		{"2026-11-30T23:59:59+14:00", "Pacific/Kiritimati", false},
		{"2026-12-02T23:59:59-10:00", "Pacific/Honolulu", true},
		{"2026-12-03T00:00:00-10:00", "Pacific/Honolulu", false},
		{"2026-12-03T01:00:00Z", "America/Los_Angeles", true}, // the 2nd in LA
		{"2026-12-01T07:59:00Z", "America/Los_Angeles", false},
	}
	for _, tt := range tests {
		at := instant(t, tt.at)
		if got := r.Contains(at, zone(t, tt.tz)); got != tt.want {
			t.Errorf("Contains(%s in %s) = %v, want %v", tt.at, tt.tz, got, tt.want)
		}
		if tt.want && (at.Before(start) || !at.Before(end)) {
			t.Errorf("%s is in the range but outside Window [%v, %v)", tt.at, start, end)
		}
	}
}
