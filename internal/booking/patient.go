package booking

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// PatientRecord is a person the clinic sees: the bookings of one person
// belong to one record. A web or phone booking joins the record with the
// same date of birth and the same normalised email or phone (MatchesPatient),
// or starts a new one. A record merged into another (MergedInto) keeps no
// bookings and no longer matches.
type PatientRecord struct {
	ID         uuid.UUID
	Details    Patient // names, date of birth, phone (E.164), email
	Version    int
	MergedInto *uuid.UUID
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// NormalizeEmail returns the form of an email address that matching
// compares: trimmed and lower-cased ("" for none).
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// MatchesPatient reports whether a booking for p belongs to record r: r is
// not merged, the dates of birth are equal, and the phone numbers (both
// E.164) or the normalised emails (when p has one) are equal.
func MatchesPatient(r PatientRecord, p Patient) bool {
	if r.MergedInto != nil || r.Details.DateOfBirth != p.DateOfBirth {
		return false
	}
	if r.Details.Phone == p.Phone {
		return true
	}
	e := NormalizeEmail(p.Email)
	return e != "" && NormalizeEmail(r.Details.Email) == e
}

// NewPatientRecord returns a new record for the patient details of a
// booking, at now.
func NewPatientRecord(p Patient, now time.Time) PatientRecord {
	p.Email = strings.TrimSpace(p.Email)
	return PatientRecord{ID: NewID(), Details: p, Version: 1, CreatedAt: now, UpdatedAt: now}
}

// PatientPatch is a change to a record's details; nil fields stay.
type PatientPatch struct {
	FirstName, LastName *string
	DateOfBirth         *Date
	Phone               *string
	Email               *string // "" clears it
}

// PatientPatchInput is a PATCH body as sent: nil means "not sent".
type PatientPatchInput struct {
	FirstName, LastName, DateOfBirth, Phone, Email *string
}

// ParsePatientPatch checks a change to a record's details, at now, with the
// same rules as a booking's patient. It returns a *ValidationError naming
// every bad field (first_name, last_name, date_of_birth, phone, email), and
// one naming "body" when nothing is to change.
func ParsePatientPatch(in PatientPatchInput, now time.Time) (PatientPatch, error) {
	var p Problems
	var out PatientPatch
	if in.FirstName == nil && in.LastName == nil && in.DateOfBirth == nil && in.Phone == nil && in.Email == nil {
		return out, InvalidLimit("body", FieldTooFew, 1, "must set at least one of first_name, last_name, date_of_birth, phone, email")
	}
	name := func(field string, v *string) *string {
		if v == nil {
			return nil
		}
		s := strings.TrimSpace(*v)
		checkText(&p, field, s, true, MaxNameLength, false)
		return &s
	}
	out.FirstName = name("first_name", in.FirstName)
	out.LastName = name("last_name", in.LastName)
	if in.DateOfBirth != nil {
		today := DateOf(now, now.Location())
		if d, err := ParseDate(*in.DateOfBirth); err != nil {
			p.Add("date_of_birth", FieldFormat, err.Error())
		} else if p.CheckLimit(d.Before(today), "date_of_birth", FieldTooLate, today.AddDays(-1), "must be in the past") &&
			p.CheckLimit(!d.Before(earliestDate), "date_of_birth", FieldTooEarly, earliestDate, "must not be before 1900-01-01") {
			out.DateOfBirth = &d
		}
	}
	if in.Phone != nil {
		if v, ok := NormalizePhone(*in.Phone); p.Check(ok, "phone", FieldFormat, phoneMessage) {
			out.Phone = &v
		}
	}
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		if e == "" || p.Check(ValidEmail(e), "email", FieldFormat, emailMessage) {
			out.Email = &e
		}
	}
	if err := p.Err(); err != nil {
		return PatientPatch{}, err
	}
	return out, nil
}

// Apply changes r by patch at now and reports whether anything changed.
func (r *PatientRecord) Apply(patch PatientPatch, now time.Time) bool {
	before := r.Details
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&r.Details.FirstName, patch.FirstName)
	set(&r.Details.LastName, patch.LastName)
	set(&r.Details.Phone, patch.Phone)
	set(&r.Details.Email, patch.Email)
	if patch.DateOfBirth != nil {
		r.Details.DateOfBirth = *patch.DateOfBirth
	}
	if r.Details == before {
		return false
	}
	r.UpdatedAt = now
	return true
}

// CheckMerge says whether record from may be merged into record into: not
// into itself, and neither already merged. It returns an *Error matching
// ErrMergeConflict otherwise.
func CheckMerge(from, into PatientRecord) error {
	switch {
	case from.ID == into.ID:
		return Errorf(CodeMergeConflict, "a patient cannot be merged into itself")
	case from.MergedInto != nil:
		return Errorf(CodeMergeConflict, "the patient was already merged into %s", *from.MergedInto)
	case into.MergedInto != nil:
		return Errorf(CodeMergeConflict, "the target patient was merged into %s; merge into that one", *into.MergedInto)
	}
	return nil
}

// NewID returns a new time-ordered id (UUID version 7): rows inserted one
// after another land next to each other in an index, which keeps inserts
// cheap.
func NewID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}

// Visits sums up a patient's earlier visits for staff matching a caller to
// a record: the bookings the patient came to (checked in or completed,
// whatever their date) and the local day of the latest of them.
// Cancelled, declined, expired, missed (no-show) and still-open bookings
// are not visits.
type Visits struct {
	Count  int
	LastOn *Date // the clinic's local day of the latest visit; nil when none
}

// VisitStatuses are the statuses of a booking that counts as a visit: the
// patient came.
var VisitStatuses = []Status{StatusCheckedIn, StatusCompleted}
