package booking

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// Bound is one end of a list's time range, as staff give it: an instant, or
// a calendar date, whose instants depend on each location's zone (a date is
// an inclusive day at either end, an instant an inclusive start or an
// exclusive end). The zero Bound does not bound.
type Bound struct {
	Instant time.Time // when not a date
	Date    Date      // when a date; Instant is then zero
}

// DayBound is the bound of a whole local day d.
func DayBound(d Date) Bound { return Bound{Date: d} }

// InstantBound is the bound of an instant t.
func InstantBound(t time.Time) Bound { return Bound{Instant: t.UTC()} }

// IsZero reports whether b does not bound.
func (b Bound) IsZero() bool { return b.Date.IsZero() && b.Instant.IsZero() }

// IsDate reports whether b is a calendar date.
func (b Bound) IsDate() bool { return !b.Date.IsZero() }

// errBound is a from or to filter that cannot be read.
var errBound = errors.New("must be a date YYYY-MM-DD or an RFC 3339 date-time with an offset")

// ParseBound reads a from or to filter: "" (no bound), a date YYYY-MM-DD or
// an RFC 3339 instant with an offset. Its error can be shown as a field
// message.
func ParseBound(s string) (Bound, error) {
	if s == "" {
		return Bound{}, nil
	}
	if len(s) == 10 {
		d, err := ParseDate(s)
		if err != nil {
			return Bound{}, errBound
		}
		return DayBound(d), nil
	}
	t, err := ParseInstant(s)
	if err != nil {
		return Bound{}, errBound
	}
	return InstantBound(t), nil
}

// BoundsOutOfOrder reports whether to is before from, when both are dates
// or both instants (a date against an instant depends on the zone; the
// list simply finds nothing then).
func BoundsOutOfOrder(from, to Bound) bool {
	return RangeOutOfOrder(from.Date, from.Instant, to.Date, to.Instant)
}

// Search is what staff typed in a search box, read once: a whole phone
// number, part of one, a reference, or words. Phone (or Digits) and
// Reference may both be set (a reference of digits reads as phone digits
// too): a record matches when it matches either. Words are set only when
// none of those is, and a record matches when it holds every word.
type Search struct {
	// Phone is the number in E.164 when the query is a whole phone number
	// in any format ("+34 612-345-678").
	Phone string
	// Digits are the digits of a query written like (part of) a phone
	// number, at least four, when it is not a whole number.
	Digits string
	// Reference is the canonical reference ("K7QM-4T2P") when the query
	// reads as one, with or without its dash, in any case.
	Reference string
	// Words are the lower-case words of any other query; each must match.
	Words []string
}

// MinSearchDigits is how many digits a query needs to be searched as part
// of a phone number.
const MinSearchDigits = 4

// ParseSearch reads a search query. An empty or blank query is the zero
// Search, which does not filter.
func ParseSearch(q string) Search {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return Search{}
	}
	var s Search
	if PhoneLike(q) {
		if v, ok := NormalizePhone(q); ok {
			s.Phone = v
		} else {
			s.Digits = DigitsOf(q)
		}
	}
	if ref, ok := NormalizeReference(q); ok {
		s.Reference = ref
	}
	if s.Phone == "" && s.Digits == "" && s.Reference == "" {
		s.Words = strings.Fields(q)
	}
	return s
}

// IsZero reports whether s does not filter.
func (s Search) IsZero() bool {
	return s.Phone == "" && s.Digits == "" && s.Reference == "" && len(s.Words) == 0
}

// PhoneDigits returns the digits a phone search looks for in a phone
// number: all of Phone's, or Digits; "" when s is no phone search.
func (s Search) PhoneDigits() string {
	if s.Phone != "" {
		return DigitsOf(s.Phone)
	}
	return s.Digits
}

// PhoneLike reports whether q is written like (part of) a phone number:
// digits with the usual separators (spaces, dashes, dots, parentheses, a
// leading +), at least MinSearchDigits digits.
func PhoneLike(q string) bool {
	digits := 0
	for i, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= MinSearchDigits
}

// DigitsOf returns the ASCII digits of s.
func DigitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// BirthDates reads q as a date of birth the way a caller reads one out and
// a receptionist types it, and returns the days it may name, in order; nil
// when q is no date. A date in the form YYYY-MM-DD is that day. A date
// written with the day and month before the year, separated by '/', '.' or
// '-' ("04/02/1980", "4.2.1980", "04-02-1980", "4/2/80"), is read both
// ways, month first as in the United States and day first as in Spain and
// most of the world, because a clinic hears both and the patient's record
// settles it. With '/' a two-digit year is read in both the 1900s and the
// 2000s (a date of birth can only be one of them, and the other finds no
// one); with '.' or '-' the year has four digits, so that phone digits
// typed in pairs ("12-12-34") stay phone digits. A four-digit year is from
// 1900 to 2099, so that a phone number typed in groups ("11-22-3344")
// stays a phone number. Only days that exist are returned.
func BirthDates(q string) []Date {
	q = strings.TrimSpace(q)
	if d, err := ParseDate(q); err == nil {
		return []Date{d}
	}
	sep := strings.IndexAny(q, "/.-")
	if sep < 0 {
		return nil
	}
	parts := strings.Split(q, q[sep:sep+1])
	if len(parts) != 3 {
		return nil
	}
	var n [3]int
	for i, p := range parts {
		v, ok := digits(p)
		if !ok || p == "" || len(p) > 4 || (i < 2 && len(p) > 2) {
			return nil
		}
		n[i] = v
	}
	var years []int
	switch len(parts[2]) {
	case 4:
		if n[2] < 1900 || n[2] > 2099 {
			return nil
		}
		years = []int{n[2]}
	case 2:
		if q[sep] != '/' {
			return nil
		}
		years = []int{1900 + n[2], 2000 + n[2]}
	default:
		return nil
	}
	var out []Date
	for _, y := range years {
		for _, md := range [2][2]int{{n[0], n[1]}, {n[1], n[0]}} {
			m, d := md[0], md[1]
			if y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
				continue
			}
			date := Date{Year: y, Month: time.Month(m), Day: d}
			if !slices.Contains(out, date) {
				out = append(out, date)
			}
		}
	}
	return out
}
