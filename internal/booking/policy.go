package booking

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Policy is the clinic's booking policy (docs/product.md, rule 3) in one place: who may
// book or move which slot, and until when. Handlers call one method of it
// per decision, inside the store's transaction, so the rule and the write
// cannot drift apart.
type Policy struct {
	MinNotice           time.Duration // the public books at least this long before the start
	MaxAdvance          time.Duration // and at most this far ahead; <= 0 means no limit
	PatientChangeCutoff time.Duration // patients cancel or reschedule until this long before the start
	HoldTTL             time.Duration // a slot hold keeps its place this long
	CheckinOpens        time.Duration // staff check a patient in from this long before the start
	// MaxLivePerPatient bounds the live future online bookings of one
	// patient, by email and by phone each (CheckLivePerPatient); 0 means
	// no limit.
	MaxLivePerPatient int
	// HoldMaxShare is the share of a provider's free places of a local day
	// that live slot holds may keep (MaxDayHolds); 0 means no share limit.
	HoldMaxShare float64
}

// DefaultPolicy returns the defaults: 2h notice, 120 days ahead, patient
// changes until 24h before the start, holds of 10 minutes, and check-in
// from 3h before the start.
func DefaultPolicy() Policy {
	return Policy{MinNotice: 2 * time.Hour, MaxAdvance: 120 * 24 * time.Hour, PatientChangeCutoff: 24 * time.Hour,
		HoldTTL: DefaultHoldTTL, CheckinOpens: 3 * time.Hour}
}

// DefaultHoldTTL is how long a slot hold lasts unless configured otherwise.
const DefaultHoldTTL = 10 * time.Minute

// HoldExpiry is when a hold taken at now stops counting: now plus HoldTTL
// (DefaultHoldTTL when unset), in whole seconds, as the database keeps it.
func (p Policy) HoldExpiry(now time.Time) time.Time {
	return now.Add(p.HoldTime()).Truncate(time.Second).UTC()
}

// HoldTime is how long a slot hold lasts: HoldTTL, or DefaultHoldTTL when
// unset.
func (p Policy) HoldTime() time.Duration {
	if p.HoldTTL <= 0 {
		return DefaultHoldTTL
	}
	return p.HoldTTL
}

// PublicHoldable reports whether the public may hold a place in the slot
// info describes at now: the same test as for a booking (an active
// catalogue, the slot open with a place left, within the booking window).
// Returns ErrSlotUnavailable when not.
func (p Policy) PublicHoldable(info SlotInfo, now time.Time) error {
	if !info.CatalogActive() || !p.PublicBookable(info.Slot, now) {
		return ErrSlotUnavailable
	}
	return nil
}

// SlotInfo is what a decision about booking a slot needs: the slot as it
// was before the booking at hand took a place in it, its consultation type,
// and whether its provider, location and type are active.
type SlotInfo struct {
	Slot           Slot
	Type           ConsultationType
	ProviderActive bool
	LocationActive bool
	Names          Snapshot // what a booking in the slot keeps by name
}

// CatalogActive reports whether the slot's provider, location and
// consultation type are all active.
func (i SlotInfo) CatalogActive() bool {
	return i.ProviderActive && i.LocationActive && i.Type.Active
}

// PublicBookable reports whether the public may book s at now: the slot is
// open, has a place left, and starts within the booking window
// (BookableStarts).
func (p Policy) PublicBookable(s Slot, now time.Time) bool {
	earliest, latest := p.BookableStarts(now)
	if s.Status != SlotOpen || s.Remaining() <= 0 || s.StartAt.Before(earliest) {
		return false
	}
	return latest.IsZero() || !s.StartAt.After(latest)
}

// BookableStarts is the booking window at now: the public may book a slot
// that starts at earliest (now plus MinNotice) or later and at latest (now
// plus MaxAdvance) or earlier, both included. latest is the zero time when
// MaxAdvance is not positive: no limit.
func (p Policy) BookableStarts(now time.Time) (earliest, latest time.Time) {
	earliest = now.Add(p.MinNotice)
	if p.MaxAdvance > 0 {
		latest = now.Add(p.MaxAdvance)
	}
	return earliest, latest
}

// BookableDuring is the inverse of BookableStarts: the moments at which a
// slot starting at start lies in the booking window, from from (start less
// MaxAdvance) through until (start less MinNotice), both included. from is
// the zero time when MaxAdvance is not positive: bookable ever since.
func (p Policy) BookableDuring(start time.Time) (from, until time.Time) {
	until = start.Add(-p.MinNotice)
	if p.MaxAdvance > 0 {
		from = start.Add(-p.MaxAdvance)
	}
	return from, until
}

// PatientMayChange reports whether a patient may still cancel or reschedule,
// at now, a booking that starts at start: until PatientChangeCutoff before
// it. Staff may change bookings at any time.
func (p Policy) PatientMayChange(start, now time.Time) bool {
	return !now.After(p.changeDeadline(start))
}

// ChangeableUntil is the instant online (patient) changes to a booking that
// starts at start close, or nil when they are closed at now.
func (p Policy) ChangeableUntil(start, now time.Time) *time.Time {
	until := p.changeDeadline(start)
	if now.After(until) {
		return nil
	}
	return &until
}

func (p Policy) changeDeadline(start time.Time) time.Time {
	return start.Add(-p.PatientChangeCutoff).UTC()
}

// PublicRequest builds a web booking request for the slot info describes,
// at now: the catalogue must be active and the slot publicly bookable
// (ErrSlotUnavailable otherwise); the booking starts pending when its type
// requires confirmation. It returns the booking, its "created" event and the
// manage token (shown once), or NewBooking's validation errors.
//
// Answers that the triage rules make an emergency are refused first, with
// an *Error matching ErrTriageEmergency carrying the Triage (see
// CheckTriage): such a patient must not be offered a slot at all. The
// booking records its triage and the intake form version.
func (p Policy) PublicRequest(req Request, info SlotInfo, now time.Time) (Booking, Event, string, error) {
	if err := p.CheckTriage(req, nil); err != nil {
		return Booking{}, Event{}, "", err
	}
	if !info.CatalogActive() || !p.PublicBookable(info.Slot, now) {
		return Booking{}, Event{}, "", ErrSlotUnavailable
	}
	status := InitialStatus(SourceWeb, info.Type.RequiresConfirmation)
	b, ev, token, err := NewBooking(req, SourceWeb, status, Actor{Type: ActorPatient}, now)
	if err != nil {
		return Booking{}, Event{}, "", err
	}
	if err := decideTriage(&b, nil); err != nil {
		return Booking{}, Event{}, "", err
	}
	return b, ev, token, nil
}

// CheckTriage returns the refusal PublicRequest or StaffRequest would give
// req for its triage, before any slot is taken: an *Error matching
// ErrTriageEmergency for emergency answers without a staff override, nil
// otherwise.
func (p Policy) CheckTriage(req Request, override *TriageOverride) error {
	b := Booking{Intake: req.Intake}
	return decideTriage(&b, override)
}

// StaffBooking is a phone booking as staff enter it: the checked request,
// the initial status (pending or confirmed), staff notes, and an optional
// triage override.
type StaffBooking struct {
	Request  Request
	Status   Status
	Notes    string
	Override *TriageOverride
}

// StaffRequest builds a phone booking for the slot info describes, for
// staff at now: the twin of PublicRequest without the public window or the
// active catalogue (the store has taken an open place). The same triage
// rules apply: emergency answers are refused (ErrTriageEmergency) unless
// in.Override records that the caller was advised to seek emergency care;
// then the booking is made, marked urgent with the emergency rules, and
// keeps the override. It returns NewBooking's errors too; the manage token
// is not returned (staff manage the booking). The consent is recorded as
// given on the phone to actor at now (Consent.ByPhone); in.Request comes
// from ParseStaffRequest, which accepts a partial intake.
func (p Policy) StaffRequest(in StaffBooking, actor Actor, now time.Time) (Booking, Event, error) {
	if err := p.CheckTriage(in.Request, in.Override); err != nil {
		return Booking{}, Event{}, err
	}
	b, ev, _, err := NewBooking(in.Request, SourcePhone, in.Status, actor, now)
	if err != nil {
		return Booking{}, Event{}, err
	}
	if actor.StaffID != nil {
		b.Consent.ByPhone = &PhoneConsent{StaffID: *actor.StaffID, At: now}
	}
	if err := decideTriage(&b, in.Override); err != nil {
		return Booking{}, Event{}, err
	}
	b.Notes = in.Notes
	return b, ev, nil
}

// PatientCancel cancels b for the patient at now. A booking that cannot be
// cancelled at all is ErrInvalidTransition (rather than "too late online");
// one whose slot starts within PatientChangeCutoff is ErrChangeWindowClosed.
func (p Policy) PatientCancel(b *Booking, slot Slot, reason string, now time.Time) ([]Event, error) {
	if _, err := Transition(b.Status, ActionCancel); err != nil {
		return nil, err
	}
	if !p.PatientMayChange(slot.StartAt, now) {
		return nil, ErrChangeWindowClosed
	}
	ev, err := b.Apply(ActionCancel, Actor{Type: ActorPatient}, reason, now)
	if err != nil {
		return nil, err
	}
	return []Event{ev}, nil
}

// PatientReschedule moves b from slot from to target for the patient at
// now: b must be movable (ErrInvalidTransition), the change window open
// (ErrChangeWindowClosed), target of the same consultation type and
// provider (a *ValidationError naming slot_id; the location may change),
// and target publicly bookable with an active catalogue
// (ErrSlotUnavailable).
func (p Policy) PatientReschedule(b *Booking, from Slot, target SlotInfo, now time.Time) ([]Event, error) {
	if err := checkMovable(*b, target.Slot.ID); err != nil {
		return nil, err
	}
	if !p.PatientMayChange(from.StartAt, now) {
		return nil, ErrChangeWindowClosed
	}
	var pr Problems
	if pr.Check(target.Slot.ConsultationTypeID == from.ConsultationTypeID, "slot_id", FieldSlotMismatch, "must be a slot of the booking's consultation type") {
		pr.Check(target.Slot.ProviderID == from.ProviderID, "slot_id", FieldSlotMismatch, "must be a slot with the booking's provider")
	}
	if err := pr.Err(); err != nil {
		return nil, err
	}
	if !target.CatalogActive() || !p.PublicBookable(target.Slot, now) {
		return nil, ErrSlotUnavailable
	}
	ev, err := b.Reschedule(target.Slot.ID, Actor{Type: ActorPatient}, now)
	if err != nil {
		return nil, err
	}
	return []Event{ev}, nil
}

// StaffReschedule moves b from slot from to target for staff at now: any
// open slot with a place (the store has taken it), of the same consultation
// type, at any time (no public window, any provider or location). It
// returns ErrInvalidTransition for a booking that cannot move and a
// *ValidationError naming slot_id for another type or the same slot.
func (p Policy) StaffReschedule(b *Booking, from Slot, target SlotInfo, actor Actor, now time.Time) ([]Event, error) {
	if err := checkMovable(*b, target.Slot.ID); err != nil {
		return nil, err
	}
	if target.Slot.ConsultationTypeID != from.ConsultationTypeID {
		return nil, Invalid("slot_id", FieldSlotMismatch, "must be a slot of the booking's consultation type")
	}
	ev, err := b.Reschedule(target.Slot.ID, actor, now)
	if err != nil {
		return nil, err
	}
	return []Event{ev}, nil
}

// StaffTransition applies action to b, in slot, for staff at now (confirm,
// decline, cancel, check-in, complete, no-show, revert); loc is the zone of
// the slot's location, whose local days bound the front-desk actions:
//
//   - check-in opens CheckinOpens before the start and closes at the end of
//     the appointment's local day;
//   - no-show and complete open at the start;
//   - revert (a checked-in or no-show booking back to confirmed, to undo a
//     mistake) is allowed until the end of the appointment's local day.
//
// It returns ErrInvalidTransition for a move the state diagram does not
// have, an *Error matching ErrTransitionNotYetAllowed with OpensAt for an
// action before its time, and one matching ErrTransitionNoLongerAllowed
// with ClosedAt for one after the day closed.
func (p Policy) StaffTransition(b *Booking, slot Slot, loc *time.Location, action Action, actor Actor, reason string, now time.Time) ([]Event, error) {
	if _, err := Transition(b.Status, action); err != nil {
		return nil, err
	}
	dayEnd := DayEnd(slot.StartAt, loc)
	switch action {
	case ActionCheckIn:
		if opens := slot.StartAt.Add(-p.CheckinOpens); now.Before(opens) {
			return nil, notYet("check-in", opens, loc)
		}
		if !now.Before(dayEnd) {
			return nil, noLonger("check-in", dayEnd, loc)
		}
	case ActionNoShow:
		if now.Before(slot.StartAt) {
			return nil, notYet("marking a no-show", slot.StartAt, loc)
		}
	case ActionComplete:
		if now.Before(slot.StartAt) {
			return nil, notYet("completing", slot.StartAt, loc)
		}
	case ActionRevert:
		if !now.Before(dayEnd) {
			return nil, noLonger("reverting", dayEnd, loc)
		}
	}
	ev, err := b.Apply(action, actor, reason, now)
	if err != nil {
		return nil, err
	}
	return []Event{ev}, nil
}

func notYet(what string, opens time.Time, loc *time.Location) error {
	at := opens.UTC()
	return &Error{Code: CodeTransitionNotYetAllowed, OpensAt: &at,
		Message: fmt.Sprintf("%s opens at %s", what, opens.In(zoneOr(loc)).Format(time.RFC3339))}
}

func noLonger(what string, closed time.Time, loc *time.Location) error {
	at := closed.UTC()
	return &Error{Code: CodeTransitionNoLongerAllowed, ClosedAt: &at,
		Message: fmt.Sprintf("%s closed at %s, the end of the appointment's day", what, closed.In(zoneOr(loc)).Format(time.RFC3339))}
}

func zoneOr(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// checkMovable returns the error Booking.Reschedule would give for moving b
// to slot to, without touching b: ErrInvalidTransition for a state that
// cannot move, a validation error for its own slot.
func checkMovable(b Booking, to uuid.UUID) error {
	_, err := b.Reschedule(to, Actor{Type: ActorSystem}, b.UpdatedAt)
	return err
}
