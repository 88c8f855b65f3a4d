package booking

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// The waitlist: a patient who found no place joins it for a consultation
// type (and optionally a provider and a location), a range of local dates
// and times of day; a place that frees is offered to the first matching
// entry (MatchesWaitlist, WaitlistBefore), held for it a while, and the
// patient accepts (a booking is made), declines or lets the offer lapse (the
// place goes to the next entry). Entries lapse after their latest date.

// WaitlistStatus is where a waitlist entry is.
type WaitlistStatus string

// Waitlist entry statuses. Waiting and offered are live; the others final.
const (
	WaitlistWaiting WaitlistStatus = "waiting" // in the queue for a place
	WaitlistOffered WaitlistStatus = "offered" // a place is held for the entry until the offer expires
	WaitlistBooked  WaitlistStatus = "booked"  // the patient accepted an offer, or booked another way
	WaitlistLapsed  WaitlistStatus = "lapsed"  // the latest date wanted passed
	WaitlistLeft    WaitlistStatus = "left"    // the patient (or staff for them) took the entry off
)

// Live reports whether an entry in s may still get or hold an offer.
func (s WaitlistStatus) Live() bool { return s == WaitlistWaiting || s == WaitlistOffered }

// TimeOfDay is a part of the day a waitlist entry wants, in the slot's
// location's local time: morning starts before noon, afternoon at or after.
type TimeOfDay string

// Times of day. An entry with none (or "any") takes any time.
const (
	TimeMorning   TimeOfDay = "morning"
	TimeAfternoon TimeOfDay = "afternoon"
	TimeAny       TimeOfDay = "any"
)

// TimesOfDay lists the times of day an entry may name.
func TimesOfDay() []TimeOfDay { return []TimeOfDay{TimeMorning, TimeAfternoon, TimeAny} }

// Waitlist errors (see the methods that return them).
const (
	// CodeOfferExpired: an accept after the offer's hold expired; the entry
	// is waiting again.
	CodeOfferExpired Code = "offer_expired"
	// CodeNoOffer: an accept or decline of an entry that holds no offer
	// (never offered, already passed on, or the place is gone).
	CodeNoOffer Code = "no_offer"
)

// Sentinels of the waitlist's codes; match them with errors.Is.
var (
	ErrOfferExpired = &Error{Code: CodeOfferExpired, Message: "the offer has expired and the place went to the next patient; you are still on the waitlist"}
	ErrNoOffer      = &Error{Code: CodeNoOffer, Message: "there is no place on offer for this waitlist entry at the moment; you are still on the waitlist"}
)

// WaitlistInput is a waitlist join as the HTTP layer decoded it: strings as
// sent; Patient, Intake and Consent as for a booking request.
type WaitlistInput struct {
	ConsultationTypeID     string
	ProviderID, LocationID *string
	EarliestDate           string
	LatestDate             string
	TimesOfDay             []string
	Patient                PatientInput
	Intake                 IntakeInput
	Consent                ConsentInput
}

// WaitlistRequest is a checked waitlist join: what ParseWaitlist returns.
type WaitlistRequest struct {
	ConsultationTypeID     uuid.UUID
	ProviderID, LocationID *uuid.UUID
	Earliest, Latest       Date
	TimesOfDay             []TimeOfDay // none means any
	Patient                Patient
	Intake                 Intake
	Consent                Consent
}

// ParseWaitlist checks a waitlist join received at now ("today" is now's
// date in now's location). With byPhone, the patient, intake and consent
// are checked as ParseStaffRequest does; else as ParseRequest does.
//
// It returns one *ValidationError naming every wrong field: those of the
// booking request (patient.*, intake.*, consent.*), and
// consultation_type_id (required, a UUID), provider_id and location_id
// (UUIDs when given), earliest_date and latest_date (required dates;
// latest_date not before today, FieldTooEarly, and not before
// earliest_date, FieldOutOfOrder), times_of_day[i] (one of TimesOfDay, each
// once).
func ParseWaitlist(in WaitlistInput, now time.Time, byPhone bool) (WaitlistRequest, error) {
	var p Problems
	var r WaitlistRequest
	today := DateOf(now, now.Location())

	if in.ConsultationTypeID == "" {
		p.Add("consultation_type_id", FieldRequired, "is required")
	} else if id, err := ParseID(in.ConsultationTypeID); p.Check(err == nil, "consultation_type_id", FieldFormat, "must be a UUID") {
		r.ConsultationTypeID = id
	}
	optionalID := func(field string, s *string) *uuid.UUID {
		if s == nil || *s == "" {
			return nil
		}
		id, err := ParseID(*s)
		if !p.Check(err == nil, field, FieldFormat, "must be a UUID") {
			return nil
		}
		return &id
	}
	r.ProviderID = optionalID("provider_id", in.ProviderID)
	r.LocationID = optionalID("location_id", in.LocationID)

	date := func(field, s string) (Date, bool) {
		if s == "" {
			p.Add(field, FieldRequired, "is required")
			return Date{}, false
		}
		d, err := ParseDate(s)
		if err != nil {
			p.Add(field, FieldFormat, err.Error())
			return Date{}, false
		}
		return d, true
	}
	earliest, okE := date("earliest_date", in.EarliestDate)
	latest, okL := date("latest_date", in.LatestDate)
	if okL && p.CheckLimit(!latest.Before(today), "latest_date", FieldTooEarly, today, "must not be in the past") && okE {
		p.Check(!latest.Before(earliest), "latest_date", FieldOutOfOrder, "must not be before earliest_date")
	}
	r.Earliest, r.Latest = earliest, latest
	if r.Earliest.Before(today) {
		// A range that started already is wanted from today.
		r.Earliest = today
	}

	times := parseAnswers(&p, "times_of_day", in.TimesOfDay, TimesOfDay())
	if !slices.Contains(times, TimeAny) {
		r.TimesOfDay = times
	}

	r.Patient = parsePatient(&p, in.Patient, today)
	r.Intake = parseIntake(&p, in.Intake, today, r.Patient.DateOfBirth, byPhone)
	r.Consent = parseConsent(&p, in.Consent, byPhone)
	if err := p.Err(); err != nil {
		return WaitlistRequest{}, err
	}
	return r, nil
}

// WaitlistCatalog is what joining needs to know of the catalogue the entry
// names: its consultation type, and whether the provider and location it
// names (if any) exist and are active.
type WaitlistCatalog struct {
	Type                          *ConsultationType // nil when unknown
	ProviderKnown, ProviderActive bool
	LocationKnown, LocationActive bool
}

// CheckWaitlistCatalog checks that r names what the public may wait for: a
// known, active (bookable online) consultation type, and a known, active
// provider and location when it names them. It returns a
// *ValidationError naming consultation_type_id, provider_id or location_id
// (FieldNotFound, FieldInactive).
func CheckWaitlistCatalog(r WaitlistRequest, c WaitlistCatalog) error {
	var p Problems
	switch {
	case c.Type == nil:
		p.Add("consultation_type_id", FieldNotFound, "is not a known consultation type")
	case !c.Type.Active:
		p.Add("consultation_type_id", FieldInactive, "cannot be booked online")
	}
	if r.ProviderID != nil {
		if p.Check(c.ProviderKnown, "provider_id", FieldNotFound, "is not a known provider") {
			p.Check(c.ProviderActive, "provider_id", FieldInactive, "is not taking bookings")
		}
	}
	if r.LocationID != nil {
		if p.Check(c.LocationKnown, "location_id", FieldNotFound, "is not a known location") {
			p.Check(c.LocationActive, "location_id", FieldInactive, "is not taking bookings")
		}
	}
	return p.Err()
}

// WaitlistEntry is one patient waiting for a place.
type WaitlistEntry struct {
	ID                     uuid.UUID
	Reference              string
	ConsultationTypeID     uuid.UUID
	ProviderID, LocationID *uuid.UUID
	Earliest, Latest       Date
	TimesOfDay             []TimeOfDay // none means any
	Patient                Patient
	Intake                 Intake
	Consent                Consent
	Triage                 Triage // as a booking request's: urgent entries go first
	Source                 Source // web or phone
	Status                 WaitlistStatus
	// Locale is the language the entry was made in (one of Locales): its
	// messages speak it, and so does a booking an offer of it becomes.
	Locale          string
	ManageTokenHash string
	// LinkResentAt is when the entry's link was last sent again to a
	// patient joining a second time with the same details; nil: never.
	LinkResentAt         *time.Time
	Offer                *WaitlistOffer // set while offered
	BookingID            *uuid.UUID     // the booking an accepted offer made
	CreatedAt, UpdatedAt time.Time
}

// WaitlistOffer is a place held for an entry: the slot, its start, when
// the hold ends, and when the offer was made.
type WaitlistOffer struct {
	ID        uuid.UUID
	SlotID    uuid.UUID
	StartAt   time.Time
	ExpiresAt time.Time
	OfferedAt time.Time
}

// WaitlistEventType names a step of an entry's history.
type WaitlistEventType string

// Waitlist history steps; offered, accepted and lapsed also reach the live
// feed and webhooks as waitlist.offered, waitlist.accepted, waitlist.lapsed.
const (
	WaitlistJoined      WaitlistEventType = "joined"
	WaitlistOfferMade   WaitlistEventType = "offered"
	WaitlistAccepted    WaitlistEventType = "accepted"
	WaitlistDeclined    WaitlistEventType = "declined"
	WaitlistOfferLapsed WaitlistEventType = "offer_lapsed"
	WaitlistEntryLapsed WaitlistEventType = "lapsed"
	WaitlistEntryLeft   WaitlistEventType = "left"
	WaitlistBookedElse  WaitlistEventType = "booked_elsewhere"
)

// WaitlistEvent is one step of an entry's append-only history.
type WaitlistEvent struct {
	ID      uuid.UUID
	EntryID uuid.UUID
	Type    WaitlistEventType
	SlotID  *uuid.UUID // the offered slot, for offer steps
	Actor   Actor
	At      time.Time
}

// LinkResendGap is the least time between two resends of an entry's link
// (LinkResendDue): a patient who joins again because the first message is
// slow gets it once, and nobody can flood the patient by repeating the
// details.
const LinkResendGap = 10 * time.Minute

// LinkResendDue reports whether a repeat join at now may send e's link
// again: never sent again yet, or last sent LinkResendGap or more before.
func (e WaitlistEntry) LinkResendDue(now time.Time) bool {
	return e.LinkResentAt == nil || !now.Before(e.LinkResentAt.Add(LinkResendGap))
}

// NewWaitlistEntry builds a waiting entry from a checked join at now, with
// a new ID, reference and manage token; it returns the entry, its joined
// event and the token in clear (shown once; the entry keeps its hash).
// Emergency answers are refused as PublicRequest refuses them (an *Error
// matching ErrTriageEmergency): such a patient must not wait for a slot.
func NewWaitlistEntry(r WaitlistRequest, source Source, actor Actor, now time.Time) (WaitlistEntry, WaitlistEvent, string, error) {
	t := AssessTriage(r.Intake)
	if t.Level == TriageEmergency {
		return WaitlistEntry{}, WaitlistEvent{}, "", triageEmergency(t)
	}
	ref, err := NewReference()
	if err != nil {
		return WaitlistEntry{}, WaitlistEvent{}, "", fmt.Errorf("waitlist reference: %w", err)
	}
	token, err := NewManageToken()
	if err != nil {
		return WaitlistEntry{}, WaitlistEvent{}, "", fmt.Errorf("waitlist token: %w", err)
	}
	now = now.UTC()
	e := WaitlistEntry{
		ID: NewID(), Reference: ref, ConsultationTypeID: r.ConsultationTypeID,
		ProviderID: r.ProviderID, LocationID: r.LocationID, Earliest: r.Earliest, Latest: r.Latest,
		TimesOfDay: r.TimesOfDay, Patient: r.Patient, Intake: r.Intake, Consent: r.Consent,
		Triage: t, Source: source, Status: WaitlistWaiting, ManageTokenHash: HashToken(token),
		CreatedAt: now, UpdatedAt: now,
	}
	return e, e.event(WaitlistJoined, nil, actor, now), token, nil
}

func (e *WaitlistEntry) event(t WaitlistEventType, slot *uuid.UUID, actor Actor, now time.Time) WaitlistEvent {
	e.UpdatedAt = now.UTC()
	return WaitlistEvent{ID: NewID(), EntryID: e.ID, Type: t, SlotID: slot, Actor: actor, At: now.UTC()}
}

// MatchesWaitlist reports whether slot s, in a location of zone loc, fits
// entry e: the same consultation type, the entry's provider and location
// when it names them, a local start date within the entry's range and a
// local start time within one of its times of day.
func MatchesWaitlist(e WaitlistEntry, s Slot, loc *time.Location) bool {
	if s.ConsultationTypeID != e.ConsultationTypeID ||
		(e.ProviderID != nil && *e.ProviderID != s.ProviderID) ||
		(e.LocationID != nil && *e.LocationID != s.LocationID) {
		return false
	}
	day := DateOf(s.StartAt, loc)
	if day.Before(e.Earliest) || day.After(e.Latest) {
		return false
	}
	if len(e.TimesOfDay) == 0 {
		return true
	}
	part := TimeAfternoon
	if s.StartAt.In(zoneOr(loc)).Hour() < 12 {
		part = TimeMorning
	}
	return slices.Contains(e.TimesOfDay, part)
}

// WaitlistBefore reports whether a is served before b: urgent (and more
// pressing) entries first, then the one that joined first (by ID on a tie,
// so the order is total).
func WaitlistBefore(a, b WaitlistEntry) bool {
	return CompareWaitlist(a, b) < 0
}

// CompareWaitlist orders entries as WaitlistBefore does, for slices.SortFunc.
func CompareWaitlist(a, b WaitlistEntry) int {
	if c := cmp.Compare(b.Triage.Level.rank(), a.Triage.Level.rank()); c != 0 {
		return c
	}
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID.String(), b.ID.String())
}

// MakeOffer holds offer for a waiting entry at now. It returns
// ErrInvalidTransition when the entry is not waiting, and ErrConflict when
// the offer's hold has already ended.
func (e *WaitlistEntry) MakeOffer(offer WaitlistOffer, actor Actor, now time.Time) (WaitlistEvent, error) {
	if e.Status != WaitlistWaiting {
		return WaitlistEvent{}, Errorf(CodeInvalidTransition, "an entry that is %s cannot be offered a place", e.Status)
	}
	if !offer.ExpiresAt.After(now) {
		return WaitlistEvent{}, fmt.Errorf("offer ending at %s: %w", offer.ExpiresAt, ErrConflict)
	}
	o := offer
	e.Offer, e.Status = &o, WaitlistOffered
	return e.event(WaitlistOfferMade, &o.SlotID, actor, now), nil
}

// Accept takes the entry's offer at now: the entry is booked as bookingID.
// It returns ErrNoOffer when no offer is held, and ErrOfferExpired (with
// the entry waiting again, its lapse step to record) when the hold ended.
func (e *WaitlistEntry) Accept(bookingID uuid.UUID, now time.Time) ([]WaitlistEvent, error) {
	if e.Status != WaitlistOffered || e.Offer == nil {
		return nil, ErrNoOffer
	}
	if !now.Before(e.Offer.ExpiresAt) {
		ev, _ := e.LapseOffer(now)
		return []WaitlistEvent{ev}, ErrOfferExpired
	}
	slot := e.Offer.SlotID
	e.Status, e.Offer, e.BookingID = WaitlistBooked, nil, &bookingID
	return []WaitlistEvent{e.event(WaitlistAccepted, &slot, Actor{Type: ActorPatient}, now)}, nil
}

// Decline passes the entry's offer on at now; the entry waits again. It
// returns ErrNoOffer when no offer is held.
func (e *WaitlistEntry) Decline(actor Actor, now time.Time) (WaitlistEvent, error) {
	if e.Status != WaitlistOffered || e.Offer == nil {
		return WaitlistEvent{}, ErrNoOffer
	}
	slot := e.Offer.SlotID
	e.Status, e.Offer = WaitlistWaiting, nil
	return e.event(WaitlistDeclined, &slot, actor, now), nil
}

// LapseOffer ends an offer whose hold ended by now; the entry waits again.
// It returns ErrNoOffer when no offer is held and ErrConflict when the
// hold still lives.
func (e *WaitlistEntry) LapseOffer(now time.Time) (WaitlistEvent, error) {
	if e.Status != WaitlistOffered || e.Offer == nil {
		return WaitlistEvent{}, ErrNoOffer
	}
	if now.Before(e.Offer.ExpiresAt) {
		return WaitlistEvent{}, fmt.Errorf("offer still held: %w", ErrConflict)
	}
	slot := e.Offer.SlotID
	e.Status, e.Offer = WaitlistWaiting, nil
	return e.event(WaitlistOfferLapsed, &slot, Actor{Type: ActorSystem}, now), nil
}

// Leave takes a live entry off the waitlist at now (its offer, if any, is
// given up). It returns ErrInvalidTransition when the entry is not live.
func (e *WaitlistEntry) Leave(actor Actor, now time.Time) (WaitlistEvent, error) {
	if !e.Status.Live() {
		return WaitlistEvent{}, Errorf(CodeInvalidTransition, "an entry that is %s cannot be left", e.Status)
	}
	e.Status, e.Offer = WaitlistLeft, nil
	return e.event(WaitlistEntryLeft, nil, actor, now), nil
}

// Expire lapses a waiting entry whose latest date is before today. It
// reports false (and changes nothing) otherwise.
func (e *WaitlistEntry) Expire(today Date, now time.Time) (WaitlistEvent, bool) {
	if e.Status != WaitlistWaiting || !e.Latest.Before(today) {
		return WaitlistEvent{}, false
	}
	e.Status = WaitlistLapsed
	return e.event(WaitlistEntryLapsed, nil, Actor{Type: ActorSystem}, now), true
}

// BookedElsewhere closes a waiting entry whose patient booked bookingID
// another way (the widget, the phone) at now. It returns
// ErrInvalidTransition when the entry is not waiting (an offered entry
// keeps its offer until it is accepted, declined or lapses).
func (e *WaitlistEntry) BookedElsewhere(bookingID uuid.UUID, now time.Time) (WaitlistEvent, error) {
	if e.Status != WaitlistWaiting {
		return WaitlistEvent{}, Errorf(CodeInvalidTransition, "an entry that is %s is not waiting", e.Status)
	}
	e.Status, e.BookingID = WaitlistBooked, &bookingID
	return e.event(WaitlistBookedElse, nil, Actor{Type: ActorSystem}, now), nil
}
