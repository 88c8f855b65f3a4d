package booking

import (
	"slices"
	"testing"
	"time"
)

func TestParseSearch(t *testing.T) {
	tests := []struct {
		q    string
		want Search
	}{
		{"", Search{}},
		{"   ", Search{}},
		{"Smith", Search{Words: []string{"smith"}}},
		{"  Ana  García ", Search{Words: []string{"ana", "garcía"}}},
		{"+34 612-345-678", Search{Phone: "+34612345678"}},
		{"612 34", Search{Digits: "61234"}},
		{"(612) 34.5", Search{Digits: "612345"}},
		{"+34 6", Search{Words: []string{"+34", "6"}}}, // three digits: not a phone search
		{"k7qm-4t2p", Search{Reference: "K7QM-4T2P"}},
		{"K7QM4T2P", Search{Reference: "K7QM-4T2P"}},
		{"2345-6789", Search{Digits: "23456789", Reference: "2345-6789"}},
		{"12-34", Search{Digits: "1234"}},
		{"smith+1234", Search{Words: []string{"smith+1234"}}},
	}
	for _, tt := range tests {
		got := ParseSearch(tt.q)
		if got.Phone != tt.want.Phone || got.Digits != tt.want.Digits || got.Reference != tt.want.Reference ||
			!slices.Equal(got.Words, tt.want.Words) {
			t.Errorf("ParseSearch(%q) = %+v, want %+v", tt.q, got, tt.want)
		}
		if got.IsZero() != tt.want.IsZero() {
			t.Errorf("ParseSearch(%q).IsZero() = %v, want %v", tt.q, got.IsZero(), tt.want.IsZero())
		}
	}
}

func TestSearchPhoneDigits(t *testing.T) {
	tests := []struct {
		s    Search
		want string
	}{
		{Search{Phone: "+34612345678"}, "34612345678"},
		{Search{Digits: "8151"}, "8151"},
		{Search{Words: []string{"smith"}}, ""},
	}
	for _, tt := range tests {
		if got := tt.s.PhoneDigits(); got != tt.want {
			t.Errorf("%+v.PhoneDigits() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestParseBound(t *testing.T) {
	tests := []struct {
		s       string
		want    Bound
		wantErr bool
	}{
		{"", Bound{}, false},
		{"2026-03-01", DayBound(Date{Year: 2026, Month: time.March, Day: 1}), false},
		{"2026-03-01T09:30:00+01:00", InstantBound(time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)), false},
		{"2026-02-30", Bound{}, true},
		{"2026-03-01T09:30:00", Bound{}, true}, // no offset
		{"tomorrow", Bound{}, true},
	}
	for _, tt := range tests {
		got, err := ParseBound(tt.s)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseBound(%q) error = %v, want error %v", tt.s, err, tt.wantErr)
			continue
		}
		if got.Date != tt.want.Date || !got.Instant.Equal(tt.want.Instant) || got.IsDate() != tt.want.IsDate() {
			t.Errorf("ParseBound(%q) = %+v, want %+v", tt.s, got, tt.want)
		}
	}
}

func TestBoundsOutOfOrder(t *testing.T) {
	day := func(d int) Bound { return DayBound(Date{Year: 2026, Month: time.March, Day: d}) }
	at := func(h int) Bound { return InstantBound(time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC)) }
	tests := []struct {
		from, to Bound
		want     bool
	}{
		{day(2), day(1), true},
		{day(1), day(1), false},
		{at(10), at(9), true},
		{at(9), at(10), false},
		{day(2), at(9), false}, // a date against an instant: not compared
		{Bound{}, day(1), false},
	}
	for _, tt := range tests {
		if got := BoundsOutOfOrder(tt.from, tt.to); got != tt.want {
			t.Errorf("BoundsOutOfOrder(%+v, %+v) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestBirthDates(t *testing.T) {
	d := func(y int, m time.Month, day int) Date { return Date{Year: y, Month: m, Day: day} }
	tests := []struct {
		q    string
		want []Date
	}{
		{"1980-04-02", []Date{d(1980, time.April, 2)}},
		{" 1980-04-02 ", []Date{d(1980, time.April, 2)}},
		{"04/02/1980", []Date{d(1980, time.April, 2), d(1980, time.February, 4)}},
		{"4/2/1980", []Date{d(1980, time.April, 2), d(1980, time.February, 4)}},
		{"02.04.1980", []Date{d(1980, time.February, 4), d(1980, time.April, 2)}},
		{"02-04-1980", []Date{d(1980, time.February, 4), d(1980, time.April, 2)}},
		{"25/12/1961", []Date{d(1961, time.December, 25)}}, // only day first exists
		{"12/25/1961", []Date{d(1961, time.December, 25)}}, // only month first exists
		{"7/7/1977", []Date{d(1977, time.July, 7)}},        // both readings are one day
		{"4/2/80", []Date{d(1980, time.April, 2), d(1980, time.February, 4), d(2080, time.April, 2), d(2080, time.February, 4)}},
		{"29/02/2023", nil}, // no such day either way
		{"30/02/2024", nil},
		{"29/2/2024", []Date{d(2024, time.February, 29)}},
		{"12-12-34", nil},   // phone digits in pairs, not a date
		{"11-22-3344", nil}, // a phone number in groups, not the year 3344
		{"01/02/1899", nil},
		{"31/12/2099", []Date{d(2099, time.December, 31)}},
		{"12.12.34", nil},
		{"1980-4-2", nil},
		{"04/02", nil},
		{"04/02/1980/1", nil},
		{"04/02-1980", nil},
		{"a4/02/1980", nil},
		{"004/02/1980", nil},
		{"04/02/19800", nil},
		{"04//1980", nil},
		{"ana lopez", nil},
		{"(424) 555-0123", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := BirthDates(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("BirthDates(%q) = %v, want %v", tt.q, got, tt.want)
		}
	}
}
