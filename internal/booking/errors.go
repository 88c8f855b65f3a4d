package booking

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code is a stable, machine-readable error code. The HTTP layer maps each
// code to a status and returns it to clients as the problem's "code".
type Code string

// Error codes returned by the domain and storage layers.
const (
	CodeNotFound             Code = "not_found"
	CodeValidation           Code = "validation_failed"
	CodeConflict             Code = "conflict"
	CodeSlotUnavailable      Code = "slot_unavailable"
	CodeSlotOverlap          Code = "slot_overlap"
	CodeSlotInUse            Code = "slot_in_use"
	CodeInvalidTransition    Code = "invalid_transition"
	CodeIdempotencyKeyReused Code = "idempotency_key_reused"
	CodeVersionMismatch      Code = "version_mismatch"
	CodeChangeWindowClosed   Code = "change_window_closed"
	CodeDuplicate            Code = "duplicate"
	CodeHoldExpired          Code = "hold_expired"
	CodeHoldLimit            Code = "hold_limit"
	CodeTimezoneInUse        Code = "timezone_in_use"
	// CodeTransitionNotYetAllowed: a front-desk action before its time
	// (check-in before it opens, no-show or complete before the start).
	CodeTransitionNotYetAllowed Code = "transition_not_yet_allowed"
	// CodeTransitionNoLongerAllowed: a front-desk action after the
	// appointment's local day closed (check-in, revert).
	CodeTransitionNoLongerAllowed Code = "transition_no_longer_allowed"
	// CodeMergeConflict: a patient merge into itself or into, or from, a
	// patient already merged.
	CodeMergeConflict Code = "merge_conflict"
	// CodePatientLimitReached: an online request for a patient (by email
	// or by phone) who already has Policy.MaxLivePerPatient live future
	// online bookings; the error's Limit names the limit.
	CodePatientLimitReached Code = "patient_limit_reached"
	// CodeHoldShareReached: a slot hold on a provider's local day whose
	// live holds already keep the share of its free places that
	// Policy.HoldMaxShare allows.
	CodeHoldShareReached Code = "hold_share_reached"
	// CodeTriageEmergency: a booking request whose intake answers are an
	// emergency (see AssessTriage); the *Error carries the Triage.
	CodeTriageEmergency Code = "triage_emergency"
)

// Error is a domain error: a code the HTTP layer understands and a message
// safe to show to a client (no SQL, no internals, no health data).
type Error struct {
	Code    Code
	Message string
	// OpensAt and ClosedAt are set on timing errors: when the refused action
	// becomes allowed (CodeTransitionNotYetAllowed), or when it stopped
	// being allowed (CodeTransitionNoLongerAllowed).
	OpensAt, ClosedAt *time.Time
	// Limit is set on the errors of a limit (CodePatientLimitReached):
	// the limit that was reached.
	Limit *int
	// Triage is set on CodeTriageEmergency: the outcome and the rules that
	// fired, for the front end to show what to do now.
	Triage *Triage
}

func (e *Error) Error() string { return e.Message }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, ErrNotFound) holds for any not-found error whatever its
// message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinel errors; match them with errors.Is. Wrapped errors and *Error values
// with the same code but another message match too.
var (
	ErrNotFound                  = &Error{Code: CodeNotFound, Message: "not found"}
	ErrConflict                  = &Error{Code: CodeConflict, Message: "conflict"}
	ErrSlotUnavailable           = &Error{Code: CodeSlotUnavailable, Message: "the slot has no place left or cannot be booked"}
	ErrSlotOverlap               = &Error{Code: CodeSlotOverlap, Message: "the provider already has a slot overlapping this time"}
	ErrSlotInUse                 = &Error{Code: CodeSlotInUse, Message: "the slot has bookings that occupy it"}
	ErrInvalidTransition         = &Error{Code: CodeInvalidTransition, Message: "this change is not allowed in the booking's current state"}
	ErrIdempotencyKeyReused      = &Error{Code: CodeIdempotencyKeyReused, Message: "the Idempotency-Key was already used with another request body"}
	ErrVersionMismatch           = &Error{Code: CodeVersionMismatch, Message: "the resource was changed since it was read"}
	ErrChangeWindowClosed        = &Error{Code: CodeChangeWindowClosed, Message: "the booking can no longer be changed online; please call the clinic"}
	ErrDuplicate                 = &Error{Code: CodeDuplicate, Message: "already exists"}
	ErrHoldExpired               = &Error{Code: CodeHoldExpired, Message: "the hold on this slot has expired; choose a slot again"}
	ErrHoldLimit                 = &Error{Code: CodeHoldLimit, Message: "too many slots are held from this address; book or release one, or wait for one to expire"}
	ErrTimezoneInUse             = &Error{Code: CodeTimezoneInUse, Message: "the location's timezone cannot change once it has slots or schedules: their local times would move"}
	ErrTransitionNotYetAllowed   = &Error{Code: CodeTransitionNotYetAllowed, Message: "this change is not allowed yet"}
	ErrTransitionNoLongerAllowed = &Error{Code: CodeTransitionNoLongerAllowed, Message: "this change is no longer allowed"}
	ErrMergeConflict             = &Error{Code: CodeMergeConflict, Message: "these patients cannot be merged"}
	ErrPatientLimitReached       = &Error{Code: CodePatientLimitReached, Message: "this patient has as many upcoming online bookings as one patient may have"}
	ErrHoldShareReached          = &Error{Code: CodeHoldShareReached, Message: "too many places of this day are held at the moment; book without a hold, or try again in a few minutes"}
	ErrTriageEmergency           = &Error{Code: CodeTriageEmergency, Message: "the answers suggest the patient needs emergency care today; no booking was made"}
)

// CodeOf returns the code of the first *Error or *ValidationError in err's
// chain, and "" when there is none.
func CodeOf(err error) Code {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return CodeValidation
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// FieldError names one invalid input field, as a JSON path such as
// "patient.email", the rule it breaks (Code) and, for a bound, the bound:
// Limit for a length, size, count, duration or date bound (a number, int
// or float64, or a Date for FieldTooEarly and FieldTooLate), Allowed for
// FieldEnum. Message says the same in English.
type FieldError struct {
	Field   string
	Code    FieldCode
	Message string
	Limit   any
	Allowed []string
}

// ValidationError lists every invalid field of one input at once.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Problems collects field errors while an input is checked; Err returns them
// as one *ValidationError, or nil when there were none.
type Problems struct {
	fields []FieldError
}

// Add records that field breaks the rule code names.
func (p *Problems) Add(field string, code FieldCode, message string) {
	p.fields = append(p.fields, FieldError{Field: field, Code: code, Message: message})
}

// AddLimit records that field breaks the bound limit (see FieldError).
func (p *Problems) AddLimit(field string, code FieldCode, limit any, message string) {
	p.fields = append(p.fields, FieldError{Field: field, Code: code, Message: message, Limit: limit})
}

// AddEnum records that field is not one of allowed.
func (p *Problems) AddEnum(field string, allowed []string, message string) {
	p.fields = append(p.fields, FieldError{Field: field, Code: FieldEnum, Message: message,
		Allowed: append([]string(nil), allowed...)})
}

// AddError records f as it is (a problem found by another check).
func (p *Problems) AddError(f FieldError) {
	p.fields = append(p.fields, f)
}

// Check records that field breaks the rule code names when ok is false, and
// returns ok.
func (p *Problems) Check(ok bool, field string, code FieldCode, message string) bool {
	if !ok {
		p.Add(field, code, message)
	}
	return ok
}

// CheckLimit records that field breaks the bound limit when ok is false,
// and returns ok.
func (p *Problems) CheckLimit(ok bool, field string, code FieldCode, limit any, message string) bool {
	if !ok {
		p.AddLimit(field, code, limit, message)
	}
	return ok
}

// Err returns the collected problems as a *ValidationError, or nil.
func (p *Problems) Err() error {
	if len(p.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: append([]FieldError(nil), p.fields...)}
}

// Invalid returns a *ValidationError for a single field breaking the rule
// code names.
func Invalid(field string, code FieldCode, message string) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Code: code, Message: message}}}
}

// InvalidLimit returns a *ValidationError for a single field breaking the
// bound limit (see FieldError).
func InvalidLimit(field string, code FieldCode, limit any, message string) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Code: code, Message: message, Limit: limit}}}
}

// InvalidEnum returns a *ValidationError for a single field that is not one
// of allowed.
func InvalidEnum(field string, allowed []string, message string) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Code: FieldEnum, Message: message,
		Allowed: append([]string(nil), allowed...)}}}
}
