package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// ListBookings is the agenda and booking search, and with Accept: text/csv
// the day sheet.
func (s *Server) ListBookings(c *gin.Context, params api.ListBookingsParams) {
	f := store.BookingFilter{Cursor: deref(params.Cursor), Limit: deref(params.Limit)}
	var p booking.Problems
	if params.Status != nil {
		for _, raw := range *params.Status {
			st, err := booking.ParseStatus(string(raw))
			if err != nil {
				p.Add("status", booking.FieldFormat, err.Error())
				break
			}
			if !slices.Contains(f.Statuses, st) {
				f.Statuses = append(f.Statuses, st)
			}
		}
	}
	f.ProviderID = parseQueryID(&p, "provider_id", params.ProviderId)
	f.LocationID = parseQueryID(&p, "location_id", params.LocationId)
	q := strings.TrimSpace(deref(params.Q))
	if p.CheckLimit(len([]rune(q)) <= 200, "q", booking.FieldTooLong, 200, "must be at most 200 characters") {
		f.Search = booking.ParseSearch(q)
	}
	f.From = parseBoundParam(&p, "from", deref(params.From))
	f.To = parseBoundParam(&p, "to", deref(params.To))
	if params.Sort != nil {
		f.Sort = string(*params.Sort)
	}
	csv := wantsCSV(c.GetHeader("Accept"))
	if csv {
		checkDaySheet(&p, f, deref(params.From) != "", deref(params.To) != "")
	}
	if err := p.Err(); err != nil {
		s.fail(c, err)
		return
	}
	if csv {
		s.daySheet(c, f)
		return
	}
	items, next, err := s.store.ListBookings(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.BookingList{Items: make([]api.Booking, 0, len(items)), NextCursor: nonEmpty(next)}
	for _, it := range items {
		out.Items = append(out.Items, s.bookingJSON(it.Booking, it.Slot))
	}
	c.JSON(http.StatusOK, out)
}

// parseBoundParam reads the from or to parameter named field (see
// booking.ParseBound), adding a problem when it cannot be read.
func parseBoundParam(p *booking.Problems, field, s string) booking.Bound {
	b, err := booking.ParseBound(s)
	if err != nil {
		p.Add(field, booking.FieldFormat, err.Error())
	}
	return b
}

// CreateBooking books a caller into a slot (a phone booking). Staff are not
// bound by the public booking window nor by inactive catalogue entries, but
// the slot must be open and have a place: a blocked slot is refused like a
// full one (409 slot_unavailable), as rule 5 of docs/product.md says.
func (s *Server) CreateBooking(c *gin.Context, params api.CreateBookingParams) {
	p, ok := s.principal(c)
	if !ok {
		return
	}
	key, ok := s.idempotencyKey(c, params.IdempotencyKey)
	if !ok {
		return
	}
	now := s.now()
	in, err := readBookingBody(c.Request, now, true)
	if err != nil {
		s.fail(c, err)
		return
	}
	sb := booking.StaffBooking{Request: in.req, Status: in.status, Notes: in.notes}
	if in.override != nil {
		if sb.Override, err = booking.ParseTriageOverride(*in.override, p.StaffID, now); err != nil {
			s.fail(c, err)
			return
		}
	}
	// Triage before any slot is taken, as for the public request.
	if err := s.opts.Policy.CheckTriage(sb.Request, sb.Override); err != nil {
		s.refuseTriage(c, err)
		return
	}
	// The caller's language from the body only: Accept-Language is the
	// receptionist's browser, not the patient.
	locale, _ := booking.BookingLocale(in.locale, "")
	draft := func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
		b, ev, err := s.opts.Policy.StaffRequest(sb, booking.StaffActor(p.StaffID), now)
		b.Locale = locale
		return b, ev, err
	}
	render := func(b booking.Booking, slot booking.Slot) (store.Response, error) {
		body, err := json.Marshal(s.bookingJSON(b, slot))
		return store.Response{Status: http.StatusCreated, Body: body, Header: map[string]string{
			"Location": "/v1/bookings/" + b.ID.String(), "ETag": etag(b.Version),
		}}, err
	}
	s.createBooking(c, in.req.SlotID, draft, creation{
		// Scoped per staff member: two people's keys never collide.
		scope: "POST /v1/bookings " + p.StaffID.String(), key: key, canonical: in.canonical, render: render,
	})
}

// GetBooking returns the staff view of a booking with its ETag.
func (s *Server) GetBooking(c *gin.Context, key api.BookingKey) {
	id, ok := s.bookingID(c, key)
	if !ok {
		return
	}
	b, slot, err := s.store.Booking(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", etag(b.Version))
	c.JSON(http.StatusOK, s.bookingJSON(b, slot))
}

// UpdateBooking changes notes and contact details under If-Match.
func (s *Server) UpdateBooking(c *gin.Context, key api.BookingKey, params api.UpdateBookingParams) {
	p, ok := s.principal(c)
	if !ok {
		return
	}
	id, ok := s.bookingID(c, key)
	if !ok {
		return
	}
	if params.IfMatch == nil || strings.TrimSpace(*params.IfMatch) == "" {
		s.failf(c, http.StatusPreconditionRequired, "precondition_required", "send the booking's ETag in If-Match")
		return
	}
	expected, anyVersion, ok := parseIfMatch(*params.IfMatch)
	if !ok {
		s.fail(c, booking.ErrVersionMismatch)
		return
	}
	var in api.BookingUpdate
	if !s.decodeJSON(c, &in) {
		return
	}
	if in.Notes == nil && in.PatientPhone == nil && in.PatientEmail == nil {
		s.fail(c, booking.InvalidLimit("body", booking.FieldTooFew, 1, "must set at least one of notes, patient_phone, patient_email"))
		return
	}
	patch, err := booking.ParseBookingPatch(in.Notes, in.PatientPhone, in.PatientEmail)
	if err != nil {
		s.fail(c, err)
		return
	}
	var want *int
	if !anyVersion {
		want = &expected
	}
	now := s.now()
	b, slot, err := s.store.UpdateBooking(c.Request.Context(), id, want, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
		ev, changed := b.Update(patch, booking.StaffActor(p.StaffID), now)
		if !changed {
			return nil, nil
		}
		return []booking.Event{ev}, nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", etag(b.Version))
	c.JSON(http.StatusOK, s.bookingJSON(b, slot))
}

// etag is a booking version's entity tag. It is strong: If-Match compares
// strongly, and the version changes with every change of the booking.
func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// parseIfMatch reads an If-Match of one entity tag (a weak W/ prefix is
// tolerated) or "*" (any version: anyVersion).
func parseIfMatch(h string) (version int, anyVersion bool, ok bool) {
	h = strings.TrimSpace(h)
	if h == "*" {
		return 0, true, true
	}
	h = strings.TrimPrefix(h, "W/")
	if len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return 0, false, false
	}
	v, err := strconv.Atoi(h[1 : len(h)-1])
	if err != nil || v < 1 {
		return 0, false, false
	}
	return v, false, true
}

// ConfirmBooking: pending -> confirmed.
func (s *Server) ConfirmBooking(c *gin.Context, key api.BookingKey) {
	s.transition(c, key, booking.ActionConfirm, "")
}

// DeclineBooking: pending -> declined, with a reason.
func (s *Server) DeclineBooking(c *gin.Context, key api.BookingKey) {
	var in api.DeclineRequest
	if !s.decodeJSON(c, &in) {
		return
	}
	if strings.TrimSpace(in.Reason) == "" {
		s.fail(c, booking.Invalid("reason", booking.FieldRequired, "is required"))
		return
	}
	s.transition(c, key, booking.ActionDecline, in.Reason)
}

// CancelBooking: pending or confirmed -> cancelled, at any time.
func (s *Server) CancelBooking(c *gin.Context, key api.BookingKey) {
	var in api.CancelRequest
	if !s.decodeOptionalJSON(c, &in) {
		return
	}
	s.transition(c, key, booking.ActionCancel, deref(in.Reason))
}

// CheckInBooking: confirmed -> checked_in.
func (s *Server) CheckInBooking(c *gin.Context, key api.BookingKey) {
	s.transition(c, key, booking.ActionCheckIn, "")
}

// CompleteBooking: checked_in -> completed.
func (s *Server) CompleteBooking(c *gin.Context, key api.BookingKey) {
	s.transition(c, key, booking.ActionComplete, "")
}

// MarkNoShowBooking: confirmed -> no_show.
func (s *Server) MarkNoShowBooking(c *gin.Context, key api.BookingKey) {
	s.transition(c, key, booking.ActionNoShow, "")
}

// RevertBooking: checked_in or no_show -> confirmed, with a reason, until
// the end of the appointment's local day.
func (s *Server) RevertBooking(c *gin.Context, key api.BookingKey) {
	var in api.RevertRequest
	if !s.decodeJSON(c, &in) {
		return
	}
	if strings.TrimSpace(in.Reason) == "" {
		s.fail(c, booking.Invalid("reason", booking.FieldRequired, "is required"))
		return
	}
	s.transition(c, key, booking.ActionRevert, in.Reason)
}

// transition applies action for the calling staff member. The store reads
// the booking under a lock and saves with a compare-and-swap, so of two
// concurrent calls the second sees the first's result: two confirmations
// give one 200 and one 409 invalid_transition.
func (s *Server) transition(c *gin.Context, key api.BookingKey, action booking.Action, reason string) {
	p, ok := s.principal(c)
	if !ok {
		return
	}
	id, ok := s.bookingID(c, key)
	if !ok {
		return
	}
	now := s.now()
	ctx := c.Request.Context()
	// The front-desk rules count in the local days of the slot's location.
	// The zones are read before the transaction (a clinic has a handful of
	// locations): a read inside it would wait for a second connection while
	// holding the first, and a busy pool would then stall.
	zones, err := s.store.LocationZones(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	b, slot, err := s.store.UpdateBooking(ctx, id, nil, func(b *booking.Booking, slot booking.Slot) ([]booking.Event, error) {
		loc, ok := zones[slot.LocationID]
		if !ok {
			return nil, fmt.Errorf("transition: location %s has no zone", slot.LocationID)
		}
		return s.opts.Policy.StaffTransition(b, slot, loc, action, booking.StaffActor(p.StaffID), reason, now)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", etag(b.Version))
	c.JSON(http.StatusOK, s.bookingJSON(b, slot))
}

// RescheduleBooking moves a booking for staff: any open slot with a place,
// of the same consultation type, at any time (no public window, any
// provider or location).
func (s *Server) RescheduleBooking(c *gin.Context, key api.BookingKey) {
	p, ok := s.principal(c)
	if !ok {
		return
	}
	id, ok := s.bookingID(c, key)
	if !ok {
		return
	}
	to, ok := s.decodeReschedule(c)
	if !ok {
		return
	}
	now := s.now()
	b, slot, err := s.store.RescheduleBooking(c.Request.Context(), id, to, func(b *booking.Booking, from booking.Slot, target booking.SlotInfo) ([]booking.Event, error) {
		return s.opts.Policy.StaffReschedule(b, from, target, booking.StaffActor(p.StaffID), now)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", etag(b.Version))
	c.JSON(http.StatusOK, s.bookingJSON(b, slot))
}

// ListBookingEvents returns a booking's history, oldest first.
func (s *Server) ListBookingEvents(c *gin.Context, key api.BookingKey) {
	id, ok := s.bookingID(c, key)
	if !ok {
		return
	}
	events, err := s.store.BookingEvents(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.BookingEventList{Items: make([]api.BookingEvent, 0, len(events))}
	for _, e := range events {
		ev := api.BookingEvent{
			Id: e.ID, BookingId: e.BookingID, ActorType: api.BookingEventActorType(e.Actor.Type),
			ActorStaffId: e.Actor.StaffID, Type: api.BookingEventType(e.Type), ToStatus: api.BookingStatus(e.To),
			Reason: nonEmpty(e.Reason), At: e.At,
		}
		if e.From != nil {
			from := api.BookingStatus(*e.From)
			ev.FromStatus = &from
		}
		out.Items = append(out.Items, ev)
	}
	c.JSON(http.StatusOK, out)
}

// ---------------------------------------------------------------- JSON shapes

func bookingSlotJSON(sl booking.Slot) api.BookingSlot {
	return api.BookingSlot{
		Id: sl.ID, StartAt: sl.StartAt.UTC(), EndAt: sl.EndAt.UTC(),
		ProviderId: sl.ProviderID, LocationId: sl.LocationID, ConsultationTypeId: sl.ConsultationTypeID,
	}
}

func patientJSON(p booking.Patient) api.Patient {
	return api.Patient{
		FirstName: p.FirstName, LastName: p.LastName, DateOfBirth: p.DateOfBirth.String(),
		Phone: p.Phone, Email: nonEmpty(p.Email),
	}
}

// intakeJSON is the answers as recorded; a question not asked on a phone
// booking is left out.
func intakeJSON(in booking.Intake) api.IntakeAnswers {
	out := api.IntakeAnswers{
		RedFlags:     make([]api.RedFlag, 0, len(in.RedFlags)),
		PainSeverity: in.PainSeverity, RecentPhysicalActivity: in.RecentPhysicalActivity,
		ActivityDetails: nonEmpty(in.ActivityDetails), Reason: nonEmpty(in.Reason),
	}
	if in.SpasmFrequency != "" {
		f := api.SpasmFrequency(in.SpasmFrequency)
		out.SpasmFrequency = &f
	}
	for _, f := range in.RedFlags {
		out.RedFlags = append(out.RedFlags, api.RedFlag(f))
	}
	for _, r := range in.RelievedBy {
		out.RelievedBy = append(out.RelievedBy, api.ReliefMethod(r))
	}
	for _, c := range in.PreExistingConditions {
		out.PreExistingConditions = append(out.PreExistingConditions, api.PreExistingCondition(c))
	}
	if in.PainStartedOn != nil {
		d := in.PainStartedOn.String()
		out.PainStartedOn = &d
	}
	return out
}

func consentJSON(c booking.Consent) api.Consent {
	return api.Consent{PrivacyPolicyAccepted: c.PrivacyPolicyAccepted, ContactBySms: c.ContactBySMS, ContactByEmail: c.ContactByEmail}
}

// bookingJSON is the staff view: everything, with internal notes.
func (s *Server) bookingJSON(b booking.Booking, slot booking.Slot) api.Booking {
	return api.Booking{
		Id: b.ID, Reference: b.Reference, Status: api.BookingStatus(b.Status), Source: api.BookingSource(b.Source),
		Slot: bookingSlotJSON(slot), Patient: patientJSON(b.Patient), Intake: intakeJSON(b.Intake),
		Consent: consentJSON(b.Consent), Notes: b.Notes, Version: b.Version,
		CancellationReason: nonEmpty(b.CancellationReason), CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(),
		ChangeableUntil: s.changeableUntil(b, slot), Timezone: b.Snapshot.Timezone,
		ProviderName: b.Snapshot.ProviderName, LocationName: b.Snapshot.LocationName,
		LocationAddress: b.Snapshot.LocationAddress, ConsultationTypeName: b.Snapshot.ConsultationTypeName,
		PatientId: uuidOrNil(b.PatientID), Triage: triageJSON(b), Locale: localeJSON(b.Locale),
		PhoneConsent: phoneConsentJSON(b.Consent.ByPhone),
	}
}

// phoneConsentJSON is who took a phone booking's consent and when, for
// staff only; nil for a web booking.
func phoneConsentJSON(c *booking.PhoneConsent) *struct {
	At      time.Time          `json:"at"`
	StaffId openapi_types.UUID `json:"staff_id"`
} {
	if c == nil {
		return nil
	}
	return &struct {
		At      time.Time          `json:"at"`
		StaffId openapi_types.UUID `json:"staff_id"`
	}{At: c.At.UTC(), StaffId: c.StaffID}
}

// triageJSON is a booking's triage, for staff only: the public views never
// carry it.
func triageJSON(b booking.Booking) api.BookingTriage {
	out := api.BookingTriage{Level: api.BookingTriageLevel(b.Triage.Level), Rules: b.Triage.Rules,
		IntakeFormVersion: nonEmpty(b.IntakeFormVersion)}
	if out.Rules == nil {
		out.Rules = []string{}
	}
	if o := b.TriageOverride; o != nil {
		out.Override = &struct {
			AdvisedEmergencyCare bool               `json:"advised_emergency_care"`
			At                   time.Time          `json:"at"`
			Note                 string             `json:"note"`
			StaffId              openapi_types.UUID `json:"staff_id"`
		}{AdvisedEmergencyCare: o.AdvisedEmergencyCare, At: o.At.UTC(), Note: o.Note, StaffId: o.StaffID}
	}
	return out
}

// changeableUntil is when online (patient) changes to b close, or nil when
// they are closed now or b can no longer change at all.
func (s *Server) changeableUntil(b booking.Booking, slot booking.Slot) *time.Time {
	if b.Status != booking.StatusPending && b.Status != booking.StatusConfirmed {
		return nil
	}
	return s.opts.Policy.ChangeableUntil(slot.StartAt, s.now())
}

func uuidOrNil(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// patientBookingJSON is the patient's view: what they submitted and where
// the booking stands; no notes, source or version.
func (s *Server) patientBookingJSON(b booking.Booking, slot booking.Slot) api.PatientBooking {
	return api.PatientBooking{
		Id: b.ID, Reference: b.Reference, Status: api.BookingStatus(b.Status), Slot: bookingSlotJSON(slot),
		Patient: patientJSON(b.Patient), Intake: intakeJSON(b.Intake), Consent: consentJSON(b.Consent),
		CancellationReason: nonEmpty(b.CancellationReason), CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(),
		ChangeableUntil: s.changeableUntil(b, slot), Timezone: b.Snapshot.Timezone,
		ProviderName: b.Snapshot.ProviderName, LocationName: b.Snapshot.LocationName,
		LocationAddress: b.Snapshot.LocationAddress, ConsultationTypeName: b.Snapshot.ConsultationTypeName,
		Locale: localeJSON(b.Locale),
	}
}

// localeJSON is a booking's language in a view; English when unknown.
func localeJSON(l string) *api.Locale {
	out := api.Locale(booking.PickLocale(l))
	return &out
}

// bookingCreatedJSON is the patient's view with the manage token, shown
// once.
func (s *Server) bookingCreatedJSON(b booking.Booking, slot booking.Slot, token string) api.BookingCreated {
	v := s.patientBookingJSON(b, slot)
	return api.BookingCreated{
		Id: v.Id, Reference: v.Reference, Status: v.Status, Slot: v.Slot, Patient: v.Patient, Intake: v.Intake,
		Consent: v.Consent, CancellationReason: v.CancellationReason, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		ManageToken: token, ChangeableUntil: v.ChangeableUntil, Timezone: v.Timezone, ProviderName: v.ProviderName,
		LocationName: v.LocationName, LocationAddress: v.LocationAddress, ConsultationTypeName: v.ConsultationTypeName,
	}
}
