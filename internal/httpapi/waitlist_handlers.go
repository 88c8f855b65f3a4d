package httpapi

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// DefaultWaitlistOfferTTL is how long an offer holds its place unless
// Options.WaitlistOfferTTL says otherwise.
const DefaultWaitlistOfferTTL = 30 * time.Minute

func (s *Server) waitlistOfferTTL() time.Duration {
	if s.opts.WaitlistOfferTTL > 0 {
		return s.opts.WaitlistOfferTTL
	}
	return DefaultWaitlistOfferTTL
}

// waitlistBody is the body of POST /v1/waitlist (schema WaitlistJoin).
type waitlistBody struct {
	ConsultationTypeID jsonValue[string]   `json:"consultation_type_id"`
	ProviderID         jsonValue[string]   `json:"provider_id"`
	LocationID         jsonValue[string]   `json:"location_id"`
	EarliestDate       jsonValue[string]   `json:"earliest_date"`
	LatestDate         jsonValue[string]   `json:"latest_date"`
	TimesOfDay         jsonValue[[]string] `json:"times_of_day"`
	Patient            *patientBody        `json:"patient"`
	Intake             *intakeBody         `json:"intake"`
	Consent            *consentBody        `json:"consent"`
	Locale             jsonValue[string]   `json:"locale"`
}

// staffCaller returns the signed-in reception or admin member calling a
// route open to the public, if any.
func staffCaller(c *gin.Context) (auth.Principal, bool) {
	p, ok := auth.PrincipalFrom(c.Request.Context())
	return p, ok && hasRole(frontDesk, p.Role)
}

// JoinWaitlist adds a patient to the waitlist: from the public (the web,
// held to MAX_LIVE_PER_PATIENT), or for a caller with a staff token.
func (s *Server) JoinWaitlist(c *gin.Context, params api.JoinWaitlistParams) {
	staff, isStaff := staffCaller(c)
	if !isStaff && !s.allowPublic(c) {
		return
	}
	key, ok := s.idempotencyKey(c, params.IdempotencyKey)
	if !ok {
		return
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.fail(c, jsonError(err))
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(raw))
	var body waitlistBody
	schemaErr, err := decodeBodyCollect(c.Request, &body)
	if err != nil {
		s.fail(c, err)
		return
	}
	if schemaErr != nil {
		s.fail(c, schemaErr)
		return
	}
	now := s.now()
	in := booking.WaitlistInput{
		ConsultationTypeID: body.ConsultationTypeID.v, ProviderID: ptrIf(body.ProviderID), LocationID: ptrIf(body.LocationID),
		EarliestDate: body.EarliestDate.v, LatestDate: body.LatestDate.v, TimesOfDay: body.TimesOfDay.v,
	}
	if pt := body.Patient; pt != nil {
		in.Patient = booking.PatientInput{FirstName: pt.FirstName.v, LastName: pt.LastName.v, DateOfBirth: pt.DateOfBirth.v, Phone: pt.Phone.v, Email: pt.Email.v}
	}
	if it := body.Intake; it != nil {
		in.Intake = booking.IntakeInput{
			RedFlags: it.RedFlags.v, PainSeverity: ptrIf(it.PainSeverity), RelievedBy: it.RelievedBy.v,
			PainStartedOn: ptrIf(it.PainStartedOn), PreExistingConditions: it.PreExistingConditions.v,
			SpasmFrequency: it.SpasmFrequency.v, RecentPhysicalActivity: ptrIf(it.RecentPhysicalActivity),
			ActivityDetails: ptrIf(it.ActivityDetails), Reason: ptrIf(it.Reason),
		}
	}
	if cs := body.Consent; cs != nil {
		in.Consent = booking.ConsentInput{PrivacyPolicyAccepted: ptrIf(cs.PrivacyPolicyAccepted), GivenByPhone: ptrIf(cs.GivenByPhone),
			ContactBySMS: ptrIf(cs.ContactBySMS), ContactByEmail: ptrIf(cs.ContactByEmail)}
	}
	req, err := booking.ParseWaitlist(in, now, isStaff)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if err := booking.CheckWaitlistCatalog(req, s.waitlistCatalog(c, req)); err != nil {
		s.fail(c, err)
		return
	}
	source, actor := booking.SourceWeb, booking.Actor{Type: booking.ActorPatient}
	if isStaff {
		source, actor = booking.SourcePhone, booking.StaffActor(staff.StaffID)
	}
	e, ev, token, err := booking.NewWaitlistEntry(req, source, actor, now)
	if err != nil {
		s.refuseTriage(c, err)
		return
	}
	// The entry speaks the language it was made in, as a booking does; the
	// schema has refused a locale other than en and es.
	e.Locale, _ = booking.BookingLocale(ptrIf(body.Locale), c.GetHeader("Accept-Language"))
	render := func(j store.Joined) (store.Response, error) {
		e := j.Entry
		out := api.WaitlistJoined{Id: e.ID, Reference: e.Reference, Status: api.WaitlistStatus(e.Status),
			EarliestDate: openapi_types.Date{Time: e.Earliest.StartIn(time.UTC)}, LatestDate: openapi_types.Date{Time: e.Latest.StartIn(time.UTC)}}
		status := http.StatusCreated
		if j.Existing {
			// No token: the link goes to the patient's own email or phone.
			status, out.Existing, out.LinkResent = http.StatusOK, true, &j.LinkResent
		} else {
			out.ManageToken = &token
		}
		b, err := json.Marshal(out)
		return store.Response{Status: status, Body: b, Header: map[string]string{"Location": "/v1/waitlist/" + e.Reference}}, err
	}
	opts := store.JoinOptions{MaxLive: s.opts.Policy.MaxLivePerPatient, Render: render}
	if s.waitlistLinks != nil {
		opts.Resend = func(tx *sql.Tx, e booking.WaitlistEntry) (bool, error) {
			return s.waitlistLinks.ResendLinkTx(ctx, tx, e)
		}
	}
	if key != "" {
		scope := "POST /v1/waitlist"
		if isStaff {
			scope += " staff " + staff.StaffID.String()
		}
		opts.Idem = &store.Idempotency{Scope: scope, Key: key, Request: canonicalJSON(raw)}
	}
	joined, err := s.store.JoinWaitlist(ctx, e, ev, opts)
	if err != nil {
		s.fail(c, err)
		return
	}
	resp := joined.Replay
	if resp != nil {
		c.Header("Idempotent-Replayed", "true")
	} else {
		r, err := render(joined)
		if err != nil {
			s.fail(c, err)
			return
		}
		resp = &r
	}
	for k, v := range resp.Header {
		c.Header(k, v)
	}
	c.Data(resp.Status, "application/json; charset=utf-8", resp.Body)
}

// waitlistCatalog reads what CheckWaitlistCatalog needs of req's catalogue.
func (s *Server) waitlistCatalog(c *gin.Context, req booking.WaitlistRequest) booking.WaitlistCatalog {
	ctx := c.Request.Context()
	var out booking.WaitlistCatalog
	if ct, err := s.store.ConsultationType(ctx, req.ConsultationTypeID); err == nil {
		out.Type = &ct
	}
	if req.ProviderID != nil {
		if p, err := s.store.Provider(ctx, *req.ProviderID); err == nil {
			out.ProviderKnown, out.ProviderActive = true, p.Active
		}
	}
	if req.LocationID != nil {
		if l, err := s.store.Location(ctx, *req.LocationID); err == nil {
			out.LocationKnown, out.LocationActive = true, l.Active
		}
	}
	return out
}

// waitlistEntryID finds the entry a route names: by the patient's token
// when one is sent, else, for reception and admins, by id or reference. A
// patient without a token, or with a wrong one, gets the same 404 as for
// an unknown reference.
func (s *Server) waitlistEntryID(c *gin.Context, reference string, token *string) (uuid.UUID, bool) {
	ctx := c.Request.Context()
	if token != nil && *token != "" {
		id, err := s.store.WaitlistEntryIDByToken(ctx, reference, *token)
		if err != nil {
			s.fail(c, err)
			return uuid.Nil, false
		}
		return id, true
	}
	if _, ok := staffCaller(c); ok {
		if id, err := booking.ParseID(reference); err == nil {
			return id, true
		}
		e, err := s.store.WaitlistEntryByRef(ctx, reference)
		if err != nil {
			s.fail(c, err)
			return uuid.Nil, false
		}
		return e.ID, true
	}
	s.fail(c, booking.ErrNotFound)
	return uuid.Nil, false
}

// GetWaitlistEntry shows patients their entry.
func (s *Server) GetWaitlistEntry(c *gin.Context, reference string, params api.GetWaitlistEntryParams) {
	id, ok := s.waitlistEntryID(c, reference, params.XWaitlistToken)
	if !ok {
		return
	}
	e, err := s.store.WaitlistEntry(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := waitlistEntryJSON(e)
	if out.Offer != nil {
		out.Offer.Timezone = s.offerTimezone(c.Request.Context(), e.Offer.SlotID)
	}
	c.JSON(http.StatusOK, out)
}

// offerTimezone is the timezone of the offered slot's location, for the
// patient's page to show the time in; nil when it cannot be read (the
// page then shows the time in the browser's zone rather than nothing).
func (s *Server) offerTimezone(ctx context.Context, slotID uuid.UUID) *string {
	slot, err := s.store.Slot(ctx, slotID)
	if err != nil {
		return nil
	}
	l, err := s.store.Location(ctx, slot.LocationID)
	if err != nil || l.Timezone == "" {
		return nil
	}
	return &l.Timezone
}

// LeaveWaitlist takes an entry off the waitlist.
func (s *Server) LeaveWaitlist(c *gin.Context, reference string, params api.LeaveWaitlistParams) {
	staff, isStaff := staffCaller(c)
	if !isStaff && !s.allowPublic(c) {
		return
	}
	id, ok := s.waitlistEntryID(c, reference, params.XWaitlistToken)
	if !ok {
		return
	}
	actor := booking.Actor{Type: booking.ActorPatient}
	if isStaff && (params.XWaitlistToken == nil || *params.XWaitlistToken == "") {
		actor = booking.StaffActor(staff.StaffID)
	}
	e, err := s.store.LeaveWaitlist(c.Request.Context(), id, actor)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, waitlistEntryJSON(e))
}

// AcceptWaitlistOffer books the place on offer, as a booking request would.
func (s *Server) AcceptWaitlistOffer(c *gin.Context, reference string, params api.AcceptWaitlistOfferParams) {
	if !s.allowPublic(c) {
		return
	}
	id, ok := s.waitlistEntryID(c, reference, params.XWaitlistToken)
	if !ok {
		return
	}
	now := s.now()
	var token string
	draft := func(e booking.WaitlistEntry, info booking.SlotInfo) (booking.Booking, booking.Event, error) {
		req := booking.Request{SlotID: info.Slot.ID, Patient: e.Patient, Intake: e.Intake, Consent: e.Consent}
		b, ev, tok, err := s.opts.Policy.PublicRequest(req, info, now)
		// The booking speaks the entry's language, whatever the browser
		// that followed the link asks for: its emails follow the offer's.
		b.Locale, token = e.Locale, tok
		return b, ev, err
	}
	res, err := s.store.AcceptWaitlistOffer(c.Request.Context(), id, draft, store.LivePerPatient(s.opts.Policy.MaxLivePerPatient))
	if err != nil {
		s.fail(c, err)
		return
	}
	// Observed once the accept committed, once per accept: the store
	// refuses a second accept of the same offer.
	s.prom.waitlistFill.Observe(max(res.Booking.CreatedAt.Sub(res.OfferedAt).Seconds(), 0))
	c.Header("Location", "/v1/booking-requests/"+res.Booking.Reference)
	c.JSON(http.StatusCreated, s.bookingCreatedJSON(res.Booking, res.Slot, token))
}

// DeclineWaitlistOffer passes the place on offer to the next entry.
func (s *Server) DeclineWaitlistOffer(c *gin.Context, reference string, params api.DeclineWaitlistOfferParams) {
	if !s.allowPublic(c) {
		return
	}
	id, ok := s.waitlistEntryID(c, reference, params.XWaitlistToken)
	if !ok {
		return
	}
	e, err := s.store.DeclineWaitlistOffer(c.Request.Context(), id, booking.Actor{Type: booking.ActorPatient})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, waitlistEntryJSON(e))
}

// ListWaitlist lists entries for staff, urgent first, then the oldest.
func (s *Server) ListWaitlist(c *gin.Context, params api.ListWaitlistParams) {
	f := store.WaitlistFilter{Cursor: deref(params.Cursor), Limit: deref(params.Limit)}
	if params.Status != nil {
		st := booking.WaitlistStatus(*params.Status)
		f.Status = &st
	}
	if params.ConsultationTypeId != nil {
		id := uuid.UUID(*params.ConsultationTypeId)
		f.ConsultationTypeID = &id
	}
	items, next, err := s.store.ListWaitlist(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.WaitlistEntryList{Items: make([]api.WaitlistEntryStaff, 0, len(items)), NextCursor: nonEmpty(next)}
	for _, e := range items {
		out.Items = append(out.Items, waitlistStaffJSON(e))
	}
	c.JSON(http.StatusOK, out)
}

// OfferWaitlistPlace holds a chosen slot's place for a waiting entry.
func (s *Server) OfferWaitlistPlace(c *gin.Context, reference string) {
	staff, ok := s.principal(c)
	if !ok {
		return
	}
	var in api.WaitlistOfferCreate
	if !s.decodeJSON(c, &in) {
		return
	}
	slotID, err := booking.ParseID(in.SlotId)
	if err != nil {
		s.fail(c, booking.Invalid("slot_id", booking.FieldFormat, err.Error()))
		return
	}
	id, ok := s.waitlistEntryID(c, reference, nil)
	if !ok {
		return
	}
	now := s.now()
	made, err := s.store.OfferPlace(c.Request.Context(), store.PlaceOffer{
		EntryID: id, SlotID: slotID, ExpiresAt: now.Add(s.waitlistOfferTTL()), Actor: booking.StaffActor(staff.StaffID),
		Check: func(info booking.SlotInfo) error { return s.opts.Policy.PublicHoldable(info, now) },
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, waitlistStaffJSON(made.Entry))
}

type offerJSON = struct {
	ExpiresAt time.Time          `json:"expires_at"`
	SlotId    openapi_types.UUID `json:"slot_id"`
	StartAt   time.Time          `json:"start_at"`
	Timezone  *string            `json:"timezone,omitempty"`
}

func waitlistOfferJSON(o *booking.WaitlistOffer) *offerJSON {
	if o == nil {
		return nil
	}
	return &offerJSON{ExpiresAt: o.ExpiresAt.UTC(), SlotId: o.SlotID, StartAt: o.StartAt.UTC()}
}

func timesOfDayJSON(t []booking.TimeOfDay) []api.TimeOfDay {
	out := make([]api.TimeOfDay, 0, len(t))
	for _, v := range t {
		out = append(out, api.TimeOfDay(v))
	}
	return out
}

func dateJSONOf(d booking.Date) openapi_types.Date {
	return openapi_types.Date{Time: d.StartIn(time.UTC)}
}

func waitlistEntryJSON(e booking.WaitlistEntry) api.WaitlistEntry {
	return api.WaitlistEntry{
		Reference: e.Reference, Status: api.WaitlistStatus(e.Status), ConsultationTypeId: e.ConsultationTypeID,
		ProviderId: e.ProviderID, LocationId: e.LocationID, EarliestDate: dateJSONOf(e.Earliest), LatestDate: dateJSONOf(e.Latest),
		TimesOfDay: timesOfDayJSON(e.TimesOfDay), Offer: waitlistOfferJSON(e.Offer), Locale: booking.PickLocale(e.Locale),
		CreatedAt: e.CreatedAt.UTC(),
	}
}

func waitlistStaffJSON(e booking.WaitlistEntry) api.WaitlistEntryStaff {
	out := api.WaitlistEntryStaff{
		Id: e.ID, Reference: e.Reference, Status: api.WaitlistStatus(e.Status), ConsultationTypeId: e.ConsultationTypeID,
		ProviderId: e.ProviderID, LocationId: e.LocationID, EarliestDate: dateJSONOf(e.Earliest), LatestDate: dateJSONOf(e.Latest),
		TimesOfDay: timesOfDayJSON(e.TimesOfDay), Offer: waitlistOfferJSON(e.Offer), Patient: patientJSON(e.Patient),
		Source: api.WaitlistEntryStaffSource(e.Source), BookingId: e.BookingID, CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
	}
	out.Triage.Level = api.TriageLevel(e.Triage.Level)
	out.Triage.Rules = append([]string{}, e.Triage.Rules...)
	return out
}
