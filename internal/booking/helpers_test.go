package booking_test

import (
	"errors"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the DST tests must not depend on the host's zoneinfo

	"github.com/clinic/consult/internal/booking"
)

// fields returns the sorted field names of a *ValidationError, and nil for
// a nil error; any other error fails the test.
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *booking.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got error %T %v, want *booking.ValidationError", err, err)
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	slices.Sort(out)
	return out
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func date(t *testing.T, s string) booking.Date {
	t.Helper()
	d, err := booking.ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

func clock(t *testing.T, s string) booking.Clock {
	t.Helper()
	c, err := booking.ParseEndClock(s)
	if err != nil {
		t.Fatalf("ParseEndClock(%q): %v", s, err)
	}
	return c
}

func instant(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
