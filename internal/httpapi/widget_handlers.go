package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/limit"
	"github.com/clinic/consult/internal/store"
)

// The public routes a booking front end needs besides availability and
// booking requests: the intake form, the policy, the next free slots and
// slot holds.

// publicInfoCacheControl lets browsers keep the intake form and the policy
// for five minutes: they change only with a new release or configuration.
const publicInfoCacheControl = "public, max-age=300"

// GetIntakeForm serves the intake questionnaire in English or Spanish, from
// the same definition that booking requests are checked against.
func (s *Server) GetIntakeForm(c *gin.Context, params api.GetIntakeFormParams) {
	locale, err := requestLocale(params.Locale, params.AcceptLanguage)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.IntakeForm{Locale: api.IntakeFormLocale(locale), Version: booking.IntakeFormVersion(),
		ClinicPhone: nonEmpty(s.opts.ClinicPhone)}
	for _, r := range booking.TriageRules(locale) {
		tr := api.TriageRule{Id: r.ID, Outcome: api.TriageLevel(r.Outcome), Message: r.Message}
		tr.When.Field, tr.When.AnyOf = r.When.Field, r.When.AnyOf
		out.TriageRules = append(out.TriageRules, tr)
	}
	for _, q := range booking.IntakeForm(locale) {
		jq := api.IntakeQuestion{
			Field: q.Field, Type: api.IntakeQuestionType(q.Type), Required: q.Required, Min: q.Min, Max: q.Max,
			Label: q.Label, Help: q.Help, Options: []api.IntakeOption{},
		}
		if q.MaxLength > 0 {
			n := q.MaxLength
			jq.MaxLength = &n
		}
		for _, o := range q.Options {
			jq.Options = append(jq.Options, api.IntakeOption{Value: o.Value, Label: o.Label})
		}
		if q.Exclusive != "" {
			ex := q.Exclusive
			jq.ExclusiveOption = &ex
		}
		if q.ShowWhen != nil {
			jq.ShowWhen = &api.IntakeCondition{Field: q.ShowWhen.Field, Equals: q.ShowWhen.Equals}
		}
		out.Questions = append(out.Questions, jq)
	}
	c.Header("Cache-Control", publicInfoCacheControl)
	c.Writer.Header().Add("Vary", "Accept-Language")
	c.JSON(http.StatusOK, out)
}

// GetIntakeFormVersion serves a kept version of the intake form (admin):
// what patients were asked, and what the triage rules said, under it.
func (s *Server) GetIntakeFormVersion(c *gin.Context, version string) {
	v, err := s.store.IntakeForm(c.Request.Context(), version)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.IntakeFormVersion{Version: v.Version, CreatedAt: v.CreatedAt}
	if err := json.Unmarshal(v.Definition, &out.Definition); err != nil {
		s.fail(c, fmt.Errorf("intake form %s: %w", version, err))
		return
	}
	c.JSON(http.StatusOK, out)
}

// GetBookingPolicy serves the booking window, the online change cutoff and
// the hold time, in seconds.
func (s *Server) GetBookingPolicy(c *gin.Context) {
	p := s.opts.Policy
	secs := func(d time.Duration) int { return int(d / time.Second) }
	c.Header("Cache-Control", publicInfoCacheControl)
	c.JSON(http.StatusOK, api.BookingPolicy{
		MinNotice: secs(p.MinNotice), MaxAdvance: secs(max(0, p.MaxAdvance)),
		PatientChangeCutoff: secs(p.PatientChangeCutoff), HoldTtl: secs(p.HoldTime()),
		ClinicPhone: nonEmpty(s.opts.ClinicPhone), PrivacyPolicyUrl: nonEmpty(s.opts.PrivacyPolicyURL),
	})
}

// Bounds of GET /v1/availability/next's limit.
const (
	defaultNextLimit = 10
	maxNextLimit     = 50
)

// GetNextAvailability lists the next slots the public can book from now
// on; with window=staff, the next the front desk is offered.
func (s *Server) GetNextAvailability(c *gin.Context, params api.GetNextAvailabilityParams) {
	window, ok := s.offerWindow(c, (*string)(params.Window))
	if !ok {
		return
	}
	var pr booking.Problems
	q := store.NextQuery{
		ConsultationTypeID: parseQueryID(&pr, "consultation_type_id", params.ConsultationTypeId),
		ProviderID:         parseQueryID(&pr, "provider_id", params.ProviderId),
		LocationID:         parseQueryID(&pr, "location_id", params.LocationId),
		Policy:             s.opts.Policy,
		Window:             window,
		Now:                s.now(),
		Limit:              defaultNextLimit,
	}
	if params.Limit != nil {
		q.Limit = *params.Limit
		msg := "must be between 1 and " + strconv.Itoa(maxNextLimit)
		if pr.CheckLimit(q.Limit >= 1, "limit", booking.FieldTooSmall, 1, msg) {
			pr.CheckLimit(q.Limit <= maxNextLimit, "limit", booking.FieldTooLarge, maxNextLimit, msg)
		}
	}
	if err := pr.Err(); err != nil {
		s.fail(c, err)
		return
	}
	locale, err := requestLocale(params.Locale, params.AcceptLanguage)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	slots, err := s.store.NextAvailable(ctx, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	// The names, in the requested language, from the active catalogue
	// (every slot offered is of an active type and location).
	typeNames, locationNames := map[uuid.UUID]string{}, map[uuid.UUID]string{}
	if len(slots) > 0 {
		types, err := s.store.ListConsultationTypes(ctx, false)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, ct := range types {
			typeNames[ct.ID] = ct.Localized(locale).Name
		}
		locations, err := s.store.ListLocations(ctx, false)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, l := range locations {
			locationNames[l.ID] = l.Localized(locale).Name
		}
	}
	out := api.NextAvailability{Slots: make([]api.NextSlot, 0, len(slots))}
	for _, n := range slots {
		sl := n.Slot
		out.Slots = append(out.Slots, api.NextSlot{
			Id: sl.ID, StartAt: sl.StartAt.UTC(), EndAt: sl.EndAt.UTC(), ProviderId: sl.ProviderID, LocationId: sl.LocationID,
			ConsultationTypeId: sl.ConsultationTypeID, Remaining: sl.Remaining(), Timezone: n.Timezone,
			ConsultationTypeName: nonEmpty(typeNames[sl.ConsultationTypeID]), LocationName: nonEmpty(locationNames[sl.LocationID]),
		})
	}
	cacheControl := "no-store"
	if window == booking.StaffWindow {
		cacheControl = staffAvailabilityCacheControl
	}
	c.Header("Cache-Control", cacheControl)
	c.Writer.Header().Add("Vary", "Accept-Language")
	c.JSON(http.StatusOK, out)
}

// defaultHoldLimit is PUBLIC_HOLD_LIMIT's default.
const defaultHoldLimit = 2

// holdTokenPrefix marks hold tokens, so that one pasted in the wrong place
// is recognisable.
const holdTokenPrefix = "ht_"

// CreateSlotHold keeps a place of a slot for this visitor for HOLD_TTL.
func (s *Server) CreateSlotHold(c *gin.Context) {
	if !s.allowPublic(c) {
		return
	}
	var in api.SlotHoldCreate
	if !s.decodeJSON(c, &in) {
		return
	}
	var pr booking.Problems
	slotID, _ := parseID(&pr, "slot_id", in.SlotId)
	if err := pr.Err(); err != nil {
		s.fail(c, err)
		return
	}
	raw, err := booking.NewManageToken()
	if err != nil {
		s.fail(c, err)
		return
	}
	token := holdTokenPrefix + raw
	holdLimit := s.opts.PublicHoldLimit
	if holdLimit <= 0 {
		holdLimit = defaultHoldLimit
	}
	now := s.now()
	h, err := s.store.CreateHold(c.Request.Context(), store.NewHold{
		SlotID: slotID, TokenHash: booking.HashToken(token), ClientHash: clientHash(c.ClientIP()), Limit: holdLimit,
		ExpiresAt: s.opts.Policy.HoldExpiry(now),
		Check: func(info booking.SlotInfo) error {
			return s.opts.Policy.PublicHoldable(info, now)
		},
		DayCheck: s.opts.Policy.CheckDayHolds,
	})
	var (
		hl *store.HoldLimitError
		hs *store.HoldShareError
	)
	switch {
	case errors.As(err, &hl):
		c.Header("Retry-After", strconv.Itoa(int((hl.RetryAfter+time.Second-1)/time.Second)))
	case errors.As(err, &hs):
		c.Header("Retry-After", strconv.Itoa(int((hs.RetryAfter+time.Second-1)/time.Second)))
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/v1/slot-holds/"+h.ID.String())
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, api.SlotHold{Id: h.ID, SlotId: h.SlotID, HoldToken: token, ExpiresAt: h.ExpiresAt.UTC()})
}

// DeleteSlotHold releases a hold for the holder of its token.
func (s *Server) DeleteSlotHold(c *gin.Context, id uuid.UUID, params api.DeleteSlotHoldParams) {
	if err := s.store.ReleaseHold(c.Request.Context(), id, params.XHoldToken); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// clientHash is how a client is kept with its holds: its address, or its
// /64 for IPv6, like every public limit (limit.ClientKey), hashed, since
// the limit only needs to tell clients apart.
func clientHash(addr string) string {
	sum := sha256.Sum256([]byte("slot-hold-client:" + limit.ClientKey(addr)))
	return hex.EncodeToString(sum[:16])
}

// registerHoldGauge adds slot_holds_active, read from the database at each
// scrape so that every instance reports the same, exact number.
func (s *Server) registerHoldGauge(reg prometheus.Registerer) error {
	return reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "slot_holds_active",
		Help: "Slot holds that keep a place now (not expired, not used or released).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := s.store.LiveHolds(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}
