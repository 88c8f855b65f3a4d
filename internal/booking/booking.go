package booking

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Status is a booking's place in its life cycle (docs/product.md, booking states).
type Status string

// Booking statuses.
const (
	StatusPending   Status = "pending"
	StatusConfirmed Status = "confirmed"
	StatusCheckedIn Status = "checked_in"
	StatusCompleted Status = "completed"
	StatusNoShow    Status = "no_show"
	StatusDeclined  Status = "declined"
	StatusCancelled Status = "cancelled"
	StatusExpired   Status = "expired"
)

// statusPhrases name each status in messages; their order is the
// documented order of statuses.
var statusPhrases = []struct {
	status Status
	phrase string
}{
	{StatusPending, "a pending"},
	{StatusConfirmed, "a confirmed"},
	{StatusCheckedIn, "a checked-in"},
	{StatusCompleted, "a completed"},
	{StatusNoShow, "a no-show"},
	{StatusDeclined, "a declined"},
	{StatusCancelled, "a cancelled"},
	{StatusExpired, "an expired"},
}

// Statuses returns every booking status.
func Statuses() []Status {
	out := make([]Status, len(statusPhrases))
	for i, sp := range statusPhrases {
		out[i] = sp.status
	}
	return out
}

// ParseStatus parses a status as the API spells it, such as "checked_in".
// It returns an error, whose message can be shown as a field message, for
// anything else.
func ParseStatus(s string) (Status, error) {
	for _, sp := range statusPhrases {
		if string(sp.status) == s {
			return sp.status, nil
		}
	}
	return "", errors.New("must be one of " + joinValues(Statuses()))
}

// Occupies reports whether a booking in status s takes a place in its slot.
// Declined, cancelled and expired bookings release theirs at once; completed
// and no-show ones keep it, so that the past agenda stays true.
func (s Status) Occupies() bool {
	switch s {
	case StatusPending, StatusConfirmed, StatusCheckedIn, StatusCompleted, StatusNoShow:
		return true
	}
	return false
}

// CanReschedule reports whether a booking in status s may move to another
// slot: only while it is pending or confirmed.
func CanReschedule(s Status) bool {
	return s == StatusPending || s == StatusConfirmed
}

// Source says where a booking came from.
type Source string

// Booking sources.
const (
	SourceWeb   Source = "web"   // the website widget
	SourcePhone Source = "phone" // reception, for a caller
	SourceStaff Source = "staff" // staff, for any other reason
)

// ParseSource parses "web", "phone" or "staff". It returns an error, whose
// message can be shown as a field message, for anything else.
func ParseSource(s string) (Source, error) {
	switch src := Source(s); src {
	case SourceWeb, SourcePhone, SourceStaff:
		return src, nil
	}
	return "", errors.New("must be one of web, phone, staff")
}

// InitialStatus returns the status a new booking starts in: pending for a
// web request for a consultation type that requires confirmation, confirmed
// otherwise (staff bookings are confirmed as they are made, unless staff ask
// for pending explicitly).
func InitialStatus(source Source, requiresConfirmation bool) Status {
	if source == SourceWeb && requiresConfirmation {
		return StatusPending
	}
	return StatusConfirmed
}

// Action is a change of state requested on a booking.
type Action string

// Booking actions, one per arrow of the state diagram.
const (
	ActionConfirm  Action = "confirm"
	ActionDecline  Action = "decline"
	ActionCancel   Action = "cancel"
	ActionCheckIn  Action = "check_in"
	ActionComplete Action = "complete"
	ActionNoShow   Action = "no_show"
	ActionExpire   Action = "expire"
	ActionRevert   Action = "revert" // a mistaken check-in or no-show back to confirmed
)

// transitions is the product's state diagram; nothing else is allowed.
var transitions = map[Status]map[Action]Status{
	StatusPending: {
		ActionConfirm: StatusConfirmed,
		ActionDecline: StatusDeclined,
		ActionExpire:  StatusExpired,
		ActionCancel:  StatusCancelled,
	},
	StatusConfirmed: {
		ActionCheckIn: StatusCheckedIn,
		ActionNoShow:  StatusNoShow,
		ActionCancel:  StatusCancelled,
	},
	StatusCheckedIn: {
		ActionComplete: StatusCompleted,
		ActionRevert:   StatusConfirmed,
	},
	StatusNoShow: {
		ActionRevert: StatusConfirmed,
	},
}

var actionVerbs = map[Action]string{
	ActionConfirm:  "confirm",
	ActionDecline:  "decline",
	ActionCancel:   "cancel",
	ActionCheckIn:  "check in",
	ActionComplete: "complete",
	ActionNoShow:   "mark as no-show",
	ActionExpire:   "expire",
	ActionRevert:   "revert",
}

// Transition returns the status a booking in status from moves to under
// action a. For any pair not in the state diagram it returns an *Error
// matching ErrInvalidTransition whose message names both, such as "cannot
// check in a pending booking".
func Transition(from Status, a Action) (Status, error) {
	if to, ok := transitions[from][a]; ok {
		return to, nil
	}
	verb, ok := actionVerbs[a]
	if !ok {
		verb = fmt.Sprintf("apply action %q to", string(a))
	}
	return "", transitionError(verb, from)
}

func transitionError(verb string, from Status) error {
	for _, sp := range statusPhrases {
		if sp.status == from {
			return Errorf(CodeInvalidTransition, "cannot %s %s booking", verb, sp.phrase)
		}
	}
	return Errorf(CodeInvalidTransition, "cannot %s a booking in status %q", verb, string(from))
}

// Patient is the person a booking is for, as they gave their details.
type Patient struct {
	FirstName   string
	LastName    string
	DateOfBirth Date
	Phone       string // E.164, "+14245550123"
	Email       string // optional
}

// Relief is an answer to "what relieves the pain?".
type Relief string

// Relief answers.
const (
	ReliefPosition   Relief = "position"
	ReliefPressure   Relief = "pressure"
	ReliefHeatOrIce  Relief = "heat_or_ice"
	ReliefMassage    Relief = "massage"
	ReliefFoamRoller Relief = "foam_roller"
	ReliefMedication Relief = "medication"
	ReliefNothing    Relief = "nothing"
	ReliefOther      Relief = "other"
)

// Reliefs returns every Relief answer, in the order the form shows them.
func Reliefs() []Relief {
	return []Relief{ReliefPosition, ReliefPressure, ReliefHeatOrIce, ReliefMassage,
		ReliefFoamRoller, ReliefMedication, ReliefNothing, ReliefOther}
}

// Condition is a pre-existing condition a patient reports.
type Condition string

// Condition answers.
const (
	ConditionHerniatedDisc     Condition = "herniated_disc"
	ConditionSpinalArthritis   Condition = "spinal_arthritis"
	ConditionSpinalStenosis    Condition = "spinal_stenosis"
	ConditionScoliosis         Condition = "scoliosis"
	ConditionPriorSpineSurgery Condition = "prior_spine_surgery"
	ConditionOsteoporosis      Condition = "osteoporosis"
	ConditionOther             Condition = "other"
)

// Conditions returns every Condition answer, in the order the form shows
// them.
func Conditions() []Condition {
	return []Condition{ConditionHerniatedDisc, ConditionSpinalArthritis, ConditionSpinalStenosis,
		ConditionScoliosis, ConditionPriorSpineSurgery, ConditionOsteoporosis, ConditionOther}
}

// SpasmFrequency is how often a patient has spasms.
type SpasmFrequency string

// SpasmFrequency answers.
const (
	SpasmRarely   SpasmFrequency = "rarely"
	SpasmMonthly  SpasmFrequency = "monthly"
	SpasmWeekly   SpasmFrequency = "weekly"
	SpasmDaily    SpasmFrequency = "daily"
	SpasmConstant SpasmFrequency = "constant"
)

// SpasmFrequencies returns every SpasmFrequency answer, least to most often.
func SpasmFrequencies() []SpasmFrequency {
	return []SpasmFrequency{SpasmRarely, SpasmMonthly, SpasmWeekly, SpasmDaily, SpasmConstant}
}

// Intake is the patient's answers to the clinic's intake questions. It is
// health information: never log it, and show it only to those who
// need it. A web request answers every required question; a phone
// booking may leave all but the red flags unasked (see ParseStaffRequest),
// and then the pointers are nil and the strings empty.
type Intake struct {
	RedFlags               []RedFlag // at least one; RedFlagNone alone when none applies (none for bookings made before the question)
	PainSeverity           *int      // 0 to 10; nil: not asked (phone)
	RelievedBy             []Relief
	PainStartedOn          *Date // nil: not given
	PreExistingConditions  []Condition
	SpasmFrequency         SpasmFrequency // "": not asked (phone)
	RecentPhysicalActivity *bool          // nil: not asked (phone)
	ActivityDetails        string         // optional
	Reason                 string         // "": not asked (phone)
}

// Consent is what the patient agreed to when booking.
type Consent struct {
	PrivacyPolicyAccepted bool
	ContactBySMS          bool
	ContactByEmail        bool
	// ByPhone is set when the patient gave the consent on the phone to a
	// staff member (a phone booking), nil when they gave it on the web.
	ByPhone *PhoneConsent
}

// PhoneConsent records who took a caller's consent on the phone, and when.
type PhoneConsent struct {
	StaffID uuid.UUID
	At      time.Time
}

// Booking is one patient in one slot.
type Booking struct {
	ID                 uuid.UUID
	Reference          string // "K7QM-4T2P", see NewReference
	SlotID             uuid.UUID
	Status             Status
	Source             Source
	Patient            Patient
	Intake             Intake
	Consent            Consent
	Locale             string // the language it was made in, one of Locales; its messages speak it
	Notes              string // internal staff notes; never shown to the patient
	CancellationReason string // set when cancelled or declined
	Version            int    // for optimistic locking; the store bumps it on every save
	ManageTokenHash    string // HashToken of the patient's manage token; the token itself is never stored
	Snapshot           Snapshot
	PatientID          uuid.UUID // the patient record it belongs to (see MatchPatient); set by the store
	// Triage is what the triage rules made of the intake when the booking
	// was made, under intake form IntakeFormVersion ("" before versions
	// were kept); TriageOverride is set when staff booked emergency
	// answers after advising emergency care. None of them ever changes.
	Triage            Triage
	IntakeFormVersion string
	TriageOverride    *TriageOverride
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Snapshot is what the patient booked, by name, as it was when the booking
// was made or last moved: the store sets it from the slot's provider,
// location and consultation type, so that renaming them later does not
// change what the patient was told.
type Snapshot struct {
	ProviderName         string
	LocationName         string
	LocationAddress      string
	ConsultationTypeName string
	Timezone             string // IANA zone of the location
}

// ActorType says who made a change.
type ActorType string

// Actor types.
const (
	ActorStaff   ActorType = "staff"
	ActorPatient ActorType = "patient" // holding the booking's manage token
	ActorSystem  ActorType = "system"  // such as expiry of pending requests
)

// Actor is who made a change: a staff member (with StaffID), the patient, or
// the system.
type Actor struct {
	Type    ActorType
	StaffID *uuid.UUID // set for ActorStaff only
}

// StaffActor returns the Actor for the staff member id.
func StaffActor(id uuid.UUID) Actor { return Actor{Type: ActorStaff, StaffID: &id} }

// EventType says what happened to a booking.
type EventType string

// Event types. Those of transitions spell the status the booking moved to.
const (
	EventCreated     EventType = "created"
	EventConfirmed   EventType = "confirmed"
	EventDeclined    EventType = "declined"
	EventCancelled   EventType = "cancelled"
	EventRescheduled EventType = "rescheduled"
	EventCheckedIn   EventType = "checked_in"
	EventCompleted   EventType = "completed"
	EventNoShow      EventType = "no_show"
	EventExpired     EventType = "expired"
	EventUpdated     EventType = "updated"
	EventReverted    EventType = "reverted" // a check-in or no-show undone, back to confirmed
	EventFlagged     EventType = "flagged"  // a new booking the triage rules marked urgent (see FlaggedEvent)
)

// Event is one entry of a booking's append-only history.
type Event struct {
	ID        uuid.UUID
	BookingID uuid.UUID
	Actor     Actor
	Type      EventType
	From      *Status // nil for EventCreated; equal to To when the status did not change
	To        Status
	Reason    string // free text; never health information
	At        time.Time
}

// MaxReasonLength bounds the reason given for a cancellation or decline.
const MaxReasonLength = 1000

// NewBooking builds a new booking in status (pending or confirmed; see
// InitialStatus) from a checked request, with a new ID, reference and manage
// token, Version 1, and its EventCreated. It returns the booking, the event
// and the manage token in clear, to be shown to the patient once: the
// booking keeps only its hash. The caller makes a new Reference with
// NewReference if the store reports it taken.
//
// It returns a *ValidationError naming "status" or "source" when they are
// not allowed, and an error when the system's random source fails.
func NewBooking(req Request, source Source, status Status, actor Actor, now time.Time) (Booking, Event, string, error) {
	var p Problems
	if status != StatusPending && status != StatusConfirmed {
		p.AddEnum("status", []string{string(StatusPending), string(StatusConfirmed)}, "must be pending or confirmed")
	}
	_, err := ParseSource(string(source))
	if err != nil {
		p.AddEnum("source", []string{"web", "phone", "staff"}, "must be one of web, phone, staff")
	}
	if err := p.Err(); err != nil {
		return Booking{}, Event{}, "", err
	}
	ref, err := NewReference()
	if err != nil {
		return Booking{}, Event{}, "", err
	}
	token, err := NewManageToken()
	if err != nil {
		return Booking{}, Event{}, "", err
	}
	b := Booking{
		ID:              NewID(),
		Reference:       ref,
		SlotID:          req.SlotID,
		Status:          status,
		Source:          source,
		Patient:         req.Patient,
		Intake:          req.Intake,
		Consent:         req.Consent,
		Version:         1,
		ManageTokenHash: HashToken(token),
		Triage:          Triage{Level: TriageRoutine, Rules: []string{}},
		CreatedAt:       now,
		UpdatedAt:       now,
	}
	e := Event{ID: NewID(), BookingID: b.ID, Actor: actor, Type: EventCreated, To: status, At: now}
	return b, e, token, nil
}

// Apply performs action a on the booking at now for actor: it moves Status
// as Transition says, sets UpdatedAt, and for a cancel or decline records
// reason (trimmed) as CancellationReason. It returns the event to append to
// the history; Version is left to the store, which bumps it when it saves.
//
// It returns an error matching ErrInvalidTransition, and changes nothing,
// when the diagram does not allow a from the current status, and a
// *ValidationError naming "reason" when reason is longer than 1000
// characters.
func (b *Booking) Apply(a Action, actor Actor, reason string, now time.Time) (Event, error) {
	to, err := Transition(b.Status, a)
	if err != nil {
		return Event{}, err
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > MaxReasonLength {
		return Event{}, InvalidLimit("reason", FieldTooLong, MaxReasonLength, fmt.Sprintf("must be at most %d characters", MaxReasonLength))
	}
	from := b.Status
	b.Status = to
	b.UpdatedAt = now
	if a == ActionCancel || a == ActionDecline {
		b.CancellationReason = reason
	}
	// Each target status is reached by one action only, and event types of
	// transitions spell their target; a revert is the exception, named for
	// itself so the history does not read as a second confirmation.
	typ := EventType(to)
	if a == ActionRevert {
		typ = EventReverted
	}
	return Event{ID: NewID(), BookingID: b.ID, Actor: actor, Type: typ, From: &from, To: to, Reason: reason, At: now}, nil
}

// Reschedule moves the booking to slot to at now for actor, and returns the
// EventRescheduled to append; its Reason names both slots. Taking the new
// place and releasing the old one in one transaction is the store's part.
//
// It returns an error matching ErrInvalidTransition unless CanReschedule
// allows the current status, and a *ValidationError naming "slot_id" when to
// is the booking's slot already; either way nothing changes.
func (b *Booking) Reschedule(to uuid.UUID, actor Actor, now time.Time) (Event, error) {
	if !CanReschedule(b.Status) {
		return Event{}, transitionError("reschedule", b.Status)
	}
	if to == b.SlotID {
		return Event{}, Invalid("slot_id", FieldSameSlot, "is the booking's current slot")
	}
	from := b.SlotID
	b.SlotID = to
	b.UpdatedAt = now
	status := b.Status
	return Event{
		ID: NewID(), BookingID: b.ID, Actor: actor, Type: EventRescheduled,
		From: &status, To: status, Reason: fmt.Sprintf("moved from slot %s to slot %s", from, to), At: now,
	}, nil
}

// BookingPatch is a checked staff change of a booking's notes and contact
// details; a nil field is left as it is. Build it with ParseBookingPatch.
type BookingPatch struct {
	Notes        *string
	PatientPhone *string
	PatientEmail *string // "" removes the email address
}

// MaxNotesLength bounds staff notes.
const MaxNotesLength = 5000

// ParseBookingPatch checks a staff PATCH of a booking, given as raw values
// (nil: not sent), and returns it trimmed and normalised. It returns a
// *ValidationError naming every wrong JSON field: "notes" (at most 5000
// characters), "patient_phone" (E.164, see NormalizePhone), "patient_email"
// (a plain address, or "" to remove it).
func ParseBookingPatch(notes, phone, email *string) (BookingPatch, error) {
	var p Problems
	var out BookingPatch
	if notes != nil {
		n := strings.TrimSpace(*notes)
		checkText(&p, "notes", n, false, MaxNotesLength, true)
		out.Notes = &n
	}
	if phone != nil {
		if v, ok := NormalizePhone(*phone); p.Check(ok, "patient_phone", FieldFormat, phoneMessage) {
			out.PatientPhone = &v
		}
	}
	if email != nil {
		v := strings.TrimSpace(*email)
		if v == "" || p.Check(ValidEmail(v), "patient_email", FieldFormat, emailMessage) {
			out.PatientEmail = &v
		}
	}
	if err := p.Err(); err != nil {
		return BookingPatch{}, err
	}
	return out, nil
}

// Update applies patch to the booking at now for actor. It returns the
// EventUpdated to append, whose Reason lists the changed fields by name only
// (never their values, which may be sensitive), and changed=false, with no
// event and nothing touched, when the patch changes nothing.
func (b *Booking) Update(patch BookingPatch, actor Actor, now time.Time) (e Event, changed bool) {
	var fields []string
	set := func(dst *string, v *string, name string) {
		if v != nil && *v != *dst {
			*dst = *v
			fields = append(fields, name)
		}
	}
	set(&b.Notes, patch.Notes, "notes")
	set(&b.Patient.Phone, patch.PatientPhone, "patient_phone")
	set(&b.Patient.Email, patch.PatientEmail, "patient_email")
	if len(fields) == 0 {
		return Event{}, false
	}
	b.UpdatedAt = now
	status := b.Status
	return Event{
		ID: NewID(), BookingID: b.ID, Actor: actor, Type: EventUpdated,
		From: &status, To: status, Reason: "changed " + strings.Join(fields, ", "), At: now,
	}, true
}

// joinValues lists enum values for messages: "a, b, c".
func joinValues[T ~string](values []T) string {
	return strings.Join(stringSlice(values), ", ")
}

func stringSlice[T ~string](values []T) []string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = string(v)
	}
	return parts
}
