package booking

import (
	"fmt"
	"math"
)

// LiveOnline is how many live future bookings made online a patient has,
// counted by their normalised email and by their phone, each on its own:
// the bookings made with the same email (whatever the phone), and those
// made with the same phone (whatever the email). Live means pending,
// confirmed or checked in, in a slot that has not started.
type LiveOnline struct {
	ByEmail int // 0 when the request has no email
	ByPhone int
}

// CountsOnline reports whether a booking made from source counts against,
// and is held to, MaxLivePerPatient: web requests (with or without a slot
// hold) do; bookings staff make do not, and staff may book a patient who is
// at the limit.
func CountsOnline(source Source) bool { return source == SourceWeb }

// CheckLivePerPatient decides whether a patient with live online bookings
// may make one more online: not when the count by email or by phone is
// already max. A max of 0 or less means no limit. It returns an *Error with
// CodePatientLimitReached naming the limit in Limit.
func CheckLivePerPatient(max int, live LiveOnline) error {
	if max <= 0 || (live.ByEmail < max && live.ByPhone < max) {
		return nil
	}
	n := max
	return &Error{
		Code: CodePatientLimitReached, Limit: &n,
		Message: fmt.Sprintf("this patient already has %d upcoming online bookings, as many as one patient may have; "+
			"please call the clinic, or cancel one first", max),
	}
}

// DayHolds is a provider's local day as a slot hold sees it: Free is the
// places of its open slots yet to start that no booking takes (a held place
// counts as free), Held its live holds.
type DayHolds struct {
	Free, Held int
}

// MaxDayHolds is how many live holds a provider's local day with free
// places may have: HoldMaxShare of them, rounded down, but at least one
// (so the last place of a day can still be held). A HoldMaxShare of 0 or
// less, or of 1 or more, sets no limit beyond the places themselves.
func (p Policy) MaxDayHolds(free int) int {
	if p.HoldMaxShare <= 0 || p.HoldMaxShare >= 1 {
		return max(free, 1)
	}
	return max(1, int(math.Floor(p.HoldMaxShare*float64(free)+1e-9)))
}

// CheckDayHolds decides whether a day may take one more hold: not when its
// live holds already number MaxDayHolds(day.Free). It returns
// ErrHoldShareReached.
func (p Policy) CheckDayHolds(day DayHolds) error {
	if p.HoldMaxShare <= 0 || p.HoldMaxShare >= 1 {
		return nil // the places themselves are the limit (rule 1)
	}
	if day.Held >= p.MaxDayHolds(day.Free) {
		return ErrHoldShareReached
	}
	return nil
}
