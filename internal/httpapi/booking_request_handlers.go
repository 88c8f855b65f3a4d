package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// CreateBookingRequest takes a booking request from the website widget: the
// slot must be open, have a place, start within the public booking window
// and belong to an active provider, location and consultation type. The 201
// carries the manage token, which is shown only here (and to a replay of the
// same Idempotency-Key and body).
func (s *Server) CreateBookingRequest(c *gin.Context, params api.CreateBookingRequestParams) {
	if !s.allowPublic(c) {
		return
	}
	key, ok := s.idempotencyKey(c, params.IdempotencyKey)
	if !ok {
		return
	}
	now := s.now()
	in, err := readBookingBody(c.Request, now, false)
	if err != nil {
		s.fail(c, err)
		return
	}
	// Triage, before any slot is taken: emergency answers are told what to
	// do now, and nothing of the request is kept.
	if err := s.opts.Policy.CheckTriage(in.req, nil); err != nil {
		s.refuseTriage(c, err)
		return
	}
	locale, _ := booking.BookingLocale(in.locale, c.GetHeader("Accept-Language"))
	var token string
	draft := func(info booking.SlotInfo) (booking.Booking, booking.Event, error) {
		b, ev, tok, err := s.opts.Policy.PublicRequest(in.req, info, now)
		b.Locale = locale
		token = tok
		return b, ev, err
	}
	render := func(b booking.Booking, slot booking.Slot) (store.Response, error) {
		body, err := json.Marshal(s.bookingCreatedJSON(b, slot, token))
		return store.Response{Status: http.StatusCreated, Body: body,
			Header: map[string]string{"Location": "/v1/booking-requests/" + b.Reference}}, err
	}
	cr := creation{
		scope: "POST /v1/booking-requests", key: key, canonical: in.canonical, render: render,
	}
	if in.holdToken != "" {
		cr.holdTokenHash = booking.HashToken(in.holdToken)
	}
	s.createBooking(c, in.req.SlotID, draft, cr)
}

// refuseTriage answers a booking request refused by the triage rules
// (booking.ErrTriageEmergency): the 422 with what to do now. The refusal is
// counted, without labels; nothing else of the request is kept or logged.
func (s *Server) refuseTriage(c *gin.Context, err error) {
	if errors.Is(err, booking.ErrTriageEmergency) {
		s.prom.triageRefusals.Inc()
	}
	s.fail(c, err)
}

// CountEmergencyScreen counts an emergency screen that a front end showed
// from the triage rules before sending any request: the clinic's anonymous
// count then includes the patients the widget stopped itself. Under the
// public rate limit, so that a script cannot inflate it cheaply.
func (s *Server) CountEmergencyScreen(c *gin.Context) {
	if !s.allowPublic(c) {
		return
	}
	s.prom.triageScreens.Inc()
	c.Status(http.StatusNoContent)
}

// GetBookingRequest shows patients their own booking. An unknown reference
// and a wrong token are the same 404.
func (s *Server) GetBookingRequest(c *gin.Context, reference string, params api.GetBookingRequestParams) {
	b, slot, err := s.store.BookingByReference(c.Request.Context(), reference, params.XBookingToken)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.patientView(c.Request.Context(), b, slot))
}

// CancelBookingRequest lets patients cancel their pending or confirmed
// booking until Policy.PatientChangeCutoff before its start.
func (s *Server) CancelBookingRequest(c *gin.Context, reference string, params api.CancelBookingRequestParams) {
	if !s.allowPublic(c) {
		return
	}
	var in api.CancelRequest
	if !s.decodeOptionalJSON(c, &in) {
		return
	}
	ctx := c.Request.Context()
	found, _, err := s.store.BookingByReference(ctx, reference, params.XBookingToken)
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.now()
	b, slot, err := s.store.UpdateBooking(ctx, found.ID, nil, func(b *booking.Booking, slot booking.Slot) ([]booking.Event, error) {
		return s.opts.Policy.PatientCancel(b, slot, deref(in.Reason), now)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.patientView(c.Request.Context(), b, slot))
}

// RescheduleBookingRequest lets patients move their pending or confirmed
// booking, until Policy.PatientChangeCutoff before its current start, to
// another slot that the public may book, of the same consultation type and
// with the same provider (the location may change: telehealth or another
// office). The new place is taken and the old one released together.
func (s *Server) RescheduleBookingRequest(c *gin.Context, reference string, params api.RescheduleBookingRequestParams) {
	if !s.allowPublic(c) {
		return
	}
	to, ok := s.decodeReschedule(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	found, _, err := s.store.BookingByReference(ctx, reference, params.XBookingToken)
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.now()
	b, slot, err := s.store.RescheduleBooking(ctx, found.ID, to, func(b *booking.Booking, from booking.Slot, target booking.SlotInfo) ([]booking.Event, error) {
		return s.opts.Policy.PatientReschedule(b, from, target, now)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.patientView(c.Request.Context(), b, slot))
}

// allowPublic applies the per-address limit of public writes; it answers
// 429 with Retry-After and returns false when the caller is over it.
func (s *Server) allowPublic(c *gin.Context) bool {
	ok, wait, err := s.public.allow(c.Request.Context(), c.ClientIP(), s.now())
	if err != nil {
		s.fail(c, err)
		return false
	}
	if !ok {
		s.fail(c, errTooManyRequests(wait))
		return false
	}
	return true
}

// idempotencyKey checks the Idempotency-Key header: absent is "", otherwise
// 1 to 255 characters (400 when not).
func (s *Server) idempotencyKey(c *gin.Context, key *string) (string, bool) {
	if key == nil {
		return "", true
	}
	if n := utf8.RuneCountInString(*key); n == 0 || n > 255 {
		s.fail(c, errBadRequest("invalid_parameter", "the Idempotency-Key header must be 1 to 255 characters"))
		return "", false
	}
	return *key, true
}

// creation describes one create call: the Idempotency-Key scope and key
// ("" for none), the canonical request, and how to render the new booking
// as the response, with its headers (Location, and ETag for bodies with a
// version).
type creation struct {
	scope, key    string
	canonical     []byte
	render        func(booking.Booking, booking.Slot) (store.Response, error)
	holdTokenHash string // the hash of a slot hold's token, to book the held place
}

// createBooking runs a create through the store, with its Idempotency-Key
// when there is one, and answers with the new booking or, for a replayed
// key, the first response again with its headers (marked
// Idempotent-Replayed). The headers come with the rendered response, so the
// body is never read back.
func (s *Server) createBooking(c *gin.Context, slotID uuid.UUID, draft store.Draft, cr creation) {
	var idem *store.Idempotency
	if cr.key != "" {
		idem = &store.Idempotency{Scope: cr.scope, Key: cr.key, Request: cr.canonical, Response: cr.render}
	}
	var (
		res store.Created
		err error
	)
	// Only online bookings count against, and are held to, the limit;
	// the store asks booking.CountsOnline.
	perPatient := store.LivePerPatient(s.opts.Policy.MaxLivePerPatient)
	if cr.holdTokenHash != "" {
		res, err = s.store.CreateHeldBooking(c.Request.Context(), slotID, cr.holdTokenHash, draft, idem, perPatient)
	} else {
		res, err = s.store.CreateBooking(c.Request.Context(), slotID, draft, idem, perPatient)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	var out store.Response
	if res.Replay != nil {
		out = *res.Replay
		c.Header("Idempotent-Replayed", "true")
	} else if res.Response != nil {
		out = *res.Response // rendered once, in the store, as kept for replay
	} else if out, err = cr.render(res.Booking, res.Slot); err != nil {
		s.fail(c, err)
		return
	}
	for k, v := range out.Header {
		c.Header(k, v)
	}
	c.Data(out.Status, "application/json; charset=utf-8", out.Body)
}

// decodeOptionalJSON is decodeJSON for bodies that may be left out: an empty
// body is taken as {}.
func (s *Server) decodeOptionalJSON(c *gin.Context, dst any) bool {
	if c.Request.ContentLength == 0 {
		return true
	}
	return s.decodeJSON(c, dst)
}

// decodeReschedule reads {"slot_id": "uuid"}.
func (s *Server) decodeReschedule(c *gin.Context) (uuid.UUID, bool) {
	var in api.RescheduleRequest
	if !s.decodeJSON(c, &in) {
		return uuid.Nil, false
	}
	if in.SlotId == "" {
		s.fail(c, booking.Invalid("slot_id", booking.FieldRequired, "is required"))
		return uuid.Nil, false
	}
	id, err := booking.ParseID(in.SlotId)
	if err != nil {
		s.fail(c, booking.Invalid("slot_id", booking.FieldFormat, err.Error()))
		return uuid.Nil, false
	}
	return id, true
}

// ---------------------------------------------------------------- request bodies

// jsonValue is one field of a booking request body, decoded on its own: a
// value of the wrong JSON type is recorded rather than stopping the decoder,
// so that one 422 can name it together with every other bad field. null is
// taken as "not sent".
type jsonValue[T any] struct {
	set bool // sent, with the right type
	bad bool // sent, with the wrong type
	v   T
}

func (j *jsonValue[T]) UnmarshalJSON(b []byte) error {
	*j = jsonValue[T]{}
	if string(b) == "null" {
		return nil
	}
	if err := json.Unmarshal(b, &j.v); err != nil {
		var zero T
		j.v, j.bad = zero, true
		return nil
	}
	j.set = true
	return nil
}

type patientBody struct {
	FirstName   jsonValue[string] `json:"first_name"`
	LastName    jsonValue[string] `json:"last_name"`
	DateOfBirth jsonValue[string] `json:"date_of_birth"`
	Phone       jsonValue[string] `json:"phone"`
	Email       jsonValue[string] `json:"email"`
}

type intakeBody struct {
	RedFlags               jsonValue[[]string] `json:"red_flags"`
	PainSeverity           jsonValue[int]      `json:"pain_severity"`
	RelievedBy             jsonValue[[]string] `json:"relieved_by"`
	PainStartedOn          jsonValue[string]   `json:"pain_started_on"`
	PreExistingConditions  jsonValue[[]string] `json:"pre_existing_conditions"`
	SpasmFrequency         jsonValue[string]   `json:"spasm_frequency"`
	RecentPhysicalActivity jsonValue[bool]     `json:"recent_physical_activity"`
	ActivityDetails        jsonValue[string]   `json:"activity_details"`
	Reason                 jsonValue[string]   `json:"reason"`
}

type consentBody struct {
	PrivacyPolicyAccepted jsonValue[bool] `json:"privacy_policy_accepted"`
	GivenByPhone          jsonValue[bool] `json:"given_by_phone"` // staff only (StaffConsentInput)
	ContactBySMS          jsonValue[bool] `json:"contact_by_sms"`
	ContactByEmail        jsonValue[bool] `json:"contact_by_email"`
}

// bookingRequestBody is the body of POST /v1/booking-requests (schema
// BookingRequestCreate).
type bookingRequestBody struct {
	SlotID  jsonValue[string] `json:"slot_id"`
	Patient *patientBody      `json:"patient"`
	Intake  *intakeBody       `json:"intake"`
	Consent *consentBody      `json:"consent"`
}

// publicBookingBody is the body of POST /v1/booking-requests: a booking
// request, with the token of a slot hold to book the held place.
type publicBookingBody struct {
	bookingRequestBody
	HoldToken jsonValue[string] `json:"hold_token"`
	Locale    jsonValue[string] `json:"locale"`
}

// staffBookingBody is the body of POST /v1/bookings (schema BookingCreate):
// a booking request plus the initial status and staff notes.
type staffBookingBody struct {
	bookingRequestBody
	Status         jsonValue[string] `json:"status"`
	Notes          jsonValue[string] `json:"notes"`
	Locale         jsonValue[string] `json:"locale"`
	TriageOverride *struct {
		AdvisedEmergencyCare jsonValue[bool]   `json:"advised_emergency_care"`
		Note                 jsonValue[string] `json:"note"`
	} `json:"triage_override"`
}

// bookingBody is a checked booking request body.
type bookingBody struct {
	req       booking.Request
	canonical []byte         // the body in canonical JSON, for Idempotency-Key
	holdToken string         // public only: a slot hold's token, "" for none
	locale    *string        // the language the body names, nil for none
	status    booking.Status // staff only: the initial status
	notes     string         // staff only
	// staff only: the triage override as sent, nil when not sent
	override *booking.TriageOverrideInput
}

// readBookingBody reads, decodes and checks a booking request body received
// at now: the public one, or with staff the phone booking's (which adds
// status and notes). The JSON must be well-formed, of the right content
// type, within the size limit and without unknown fields; then every field
// with a wrong JSON type or a wrong value is named in one
// *booking.ValidationError.
func readBookingBody(r *http.Request, now time.Time, staff bool) (bookingBody, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return bookingBody{}, jsonError(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var body staffBookingBody
	var pub publicBookingBody
	var dst any = &pub
	if staff {
		dst = &body
	}
	schemaErr, err := decodeBodyCollect(r, dst)
	if err != nil {
		return bookingBody{}, err
	}
	if !staff {
		body.bookingRequestBody = pub.bookingRequestBody
	}

	// The schema's findings first; then the checks below, which add the
	// rules a schema cannot state (dates in the past, onset after birth,
	// answers listed once), so that one answer names every bad field.
	var types booking.Problems
	named := map[string]bool{}
	if schemaErr != nil {
		for _, f := range schemaErr.fields {
			types.AddError(f)
			named[f.Field] = true
		}
	}
	bad := map[string]bool{}
	field := func(name string, isBad bool, want string) {
		if isBad && !named[name] {
			types.Add(name, booking.FieldType, "must be "+want)
		}
		bad[name] = bad[name] || isBad || named[name]
	}
	const (
		aString  = "a string"
		aNumber  = "a whole number"
		aBool    = "true or false"
		aStrList = "an array of strings"
	)
	var in booking.RequestInput
	b := body.bookingRequestBody
	field("slot_id", b.SlotID.bad, aString)
	in.SlotID = b.SlotID.v
	if pt := b.Patient; pt != nil {
		field("patient.first_name", pt.FirstName.bad, aString)
		field("patient.last_name", pt.LastName.bad, aString)
		field("patient.date_of_birth", pt.DateOfBirth.bad, aString)
		field("patient.phone", pt.Phone.bad, aString)
		field("patient.email", pt.Email.bad, aString)
		in.Patient = booking.PatientInput{
			FirstName: pt.FirstName.v, LastName: pt.LastName.v, DateOfBirth: pt.DateOfBirth.v,
			Phone: pt.Phone.v, Email: pt.Email.v,
		}
	}
	if it := b.Intake; it != nil {
		field("intake.red_flags", it.RedFlags.bad, aStrList)
		field("intake.pain_severity", it.PainSeverity.bad, aNumber+" from 0 to 10")
		field("intake.relieved_by", it.RelievedBy.bad, aStrList)
		field("intake.pain_started_on", it.PainStartedOn.bad, aString)
		field("intake.pre_existing_conditions", it.PreExistingConditions.bad, aStrList)
		field("intake.spasm_frequency", it.SpasmFrequency.bad, aString)
		field("intake.recent_physical_activity", it.RecentPhysicalActivity.bad, aBool)
		field("intake.activity_details", it.ActivityDetails.bad, aString)
		field("intake.reason", it.Reason.bad, aString)
		in.Intake = booking.IntakeInput{
			RedFlags:     it.RedFlags.v,
			PainSeverity: ptrIf(it.PainSeverity), RelievedBy: it.RelievedBy.v,
			PainStartedOn: ptrIf(it.PainStartedOn), PreExistingConditions: it.PreExistingConditions.v,
			SpasmFrequency: it.SpasmFrequency.v, RecentPhysicalActivity: ptrIf(it.RecentPhysicalActivity),
			ActivityDetails: ptrIf(it.ActivityDetails), Reason: ptrIf(it.Reason),
		}
	}
	if cs := b.Consent; cs != nil {
		field("consent.privacy_policy_accepted", cs.PrivacyPolicyAccepted.bad, aBool)
		field("consent.contact_by_sms", cs.ContactBySMS.bad, aBool)
		field("consent.contact_by_email", cs.ContactByEmail.bad, aBool)
		field("consent.given_by_phone", cs.GivenByPhone.bad, aBool)
		in.Consent = booking.ConsentInput{
			PrivacyPolicyAccepted: ptrIf(cs.PrivacyPolicyAccepted), GivenByPhone: ptrIf(cs.GivenByPhone),
			ContactBySMS: ptrIf(cs.ContactBySMS), ContactByEmail: ptrIf(cs.ContactByEmail),
		}
	}

	out := bookingBody{canonical: canonicalJSON(raw)}
	if !staff {
		field("hold_token", pub.HoldToken.bad, aString)
		out.holdToken = pub.HoldToken.v
		if n := utf8.RuneCountInString(out.holdToken); n > 256 {
			types.AddLimit("hold_token", booking.FieldTooLong, 256, "must be at most 256 characters")
		}
		field("locale", pub.Locale.bad, aString)
		out.locale = ptrIf(pub.Locale)
	} else {
		field("locale", body.Locale.bad, aString)
		out.locale = ptrIf(body.Locale)
	}
	if _, ok := booking.BookingLocale(out.locale, ""); !ok && !named["locale"] {
		types.AddEnum("locale", booking.Locales, "must be one of "+strings.Join(booking.Locales, ", "))
	}
	var checks []error
	if staff {
		// A phone booking: the intake the caller gave, consent by phone.
		out.req, err = booking.ParseStaffRequest(in, now)
	} else {
		out.req, err = booking.ParseRequest(in, now)
	}
	checks = append(checks, err)
	if staff {
		field("status", body.Status.bad, aString)
		field("notes", body.Notes.bad, aString)
		out.status = booking.StatusConfirmed
		if body.Status.set {
			if st := booking.Status(body.Status.v); st == booking.StatusConfirmed || st == booking.StatusPending {
				out.status = st
			} else {
				checks = append(checks, booking.InvalidEnum("status", []string{string(booking.StatusConfirmed), string(booking.StatusPending)}, "must be confirmed or pending"))
			}
		}
		patch, err := booking.ParseBookingPatch(ptrIf(body.Notes), nil, nil)
		checks = append(checks, err)
		out.notes = deref(patch.Notes)
		if o := body.TriageOverride; o != nil {
			field("triage_override.advised_emergency_care", o.AdvisedEmergencyCare.bad, aBool)
			field("triage_override.note", o.Note.bad, aString)
			out.override = &booking.TriageOverrideInput{AdvisedEmergencyCare: ptrIf(o.AdvisedEmergencyCare), Note: ptrIf(o.Note)}
		}
	}

	// Type errors first, then the value checks of the fields whose type was
	// right (a field with the wrong type would also be "required").
	all := types
	for _, err := range checks {
		var ve *booking.ValidationError
		if !errors.As(err, &ve) {
			continue
		}
		for _, f := range ve.Fields {
			if !bad[f.Field] && !bad[strings.TrimRight(f.Field, "[]0123456789")] && !named[f.Field] {
				all.AddError(f)
			}
		}
	}
	if err := all.Err(); err != nil {
		return bookingBody{}, err
	}
	return out, nil
}

// ptrIf returns a pointer to the value of a field that was sent with the
// right type, and nil otherwise.
func ptrIf[T any](j jsonValue[T]) *T {
	if !j.set {
		return nil
	}
	v := j.v
	return &v
}

// canonicalJSON re-encodes a JSON body with sorted keys and no insignificant
// space, so that two spellings of one request hash alike.
func canonicalJSON(raw []byte) []byte {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}

// patientView is the patient's view of b as the manage page shows it: in
// the booking's language (the consultation type's and location's names
// where the clinic translated them; the snapshot keeps the English names
// staff see) and with the number to call, the location's phone, else the
// clinic's. A catalogue entry that cannot be read leaves the snapshot's
// names.
func (s *Server) patientView(ctx context.Context, b booking.Booking, slot booking.Slot) api.PatientBooking {
	out := s.patientBookingJSON(b, slot)
	if ct, err := s.store.ConsultationType(ctx, slot.ConsultationTypeID); err == nil {
		if t := ct.Translations[b.Locale].Name; t != "" {
			out.ConsultationTypeName = t
		}
	}
	phone := s.opts.ClinicPhone
	if l, err := s.store.Location(ctx, slot.LocationID); err == nil {
		if t := l.Translations[b.Locale].Name; t != "" {
			out.LocationName = t
		}
		if l.Phone != "" {
			phone = l.Phone
		}
	}
	out.ClinicPhone = nonEmpty(phone)
	return out
}
