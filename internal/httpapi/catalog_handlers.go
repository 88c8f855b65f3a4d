package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
)

// The catalogue (providers, locations, consultation types) is public to
// read: anonymous callers see the active entries only, and an inactive one
// is 404 to them. A caller with a valid staff token (authorize passes it on
// public routes) sees inactive entries too, and a provider's staff_id.
// Admins write.

// isStaff reports whether the caller sent a valid staff token.
func isStaff(c *gin.Context) bool {
	_, ok := auth.PrincipalFrom(c.Request.Context())
	return ok
}

// errNoChange answers a PATCH whose body changes nothing.
var errNoChange = booking.InvalidLimit("body", booking.FieldTooFew, 1, "must hold at least one field to change")

// ListProviders lists the providers by name.
func (s *Server) ListProviders(c *gin.Context) {
	staff := isStaff(c)
	items, err := s.store.ListProviders(c.Request.Context(), staff)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.ProviderList{Items: make([]api.Provider, 0, len(items))}
	for _, p := range items {
		out.Items = append(out.Items, providerJSON(p, staff))
	}
	c.JSON(http.StatusOK, out)
}

// GetProvider returns one provider.
func (s *Server) GetProvider(c *gin.Context, id uuid.UUID) {
	staff := isStaff(c)
	p, err := s.store.Provider(c.Request.Context(), id)
	if err == nil && !p.Active && !staff {
		err = booking.ErrNotFound
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, providerJSON(p, staff))
}

// CreateProvider adds a provider, optionally linked to a staff account.
func (s *Server) CreateProvider(c *gin.Context) {
	var in api.ProviderCreate
	if !s.decodeJSON(c, &in) {
		return
	}
	ctx := c.Request.Context()
	p := booking.Provider{ID: uuid.New(), Name: in.Name, Title: in.Title, Active: true, CreatedAt: s.now()}
	var pr booking.Problems
	if in.StaffId != nil {
		if id, ok := parseID(&pr, "staff_id", *in.StaffId); ok {
			p.StaffID = &id
			if err := s.checkStaffExists(ctx, &pr, id); err != nil {
				s.fail(c, err)
				return
			}
		}
	}
	if err := combine(pr.Err(), p.Validate()); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.CreateProvider(ctx, p); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/v1/providers/"+p.ID.String())
	c.JSON(http.StatusCreated, providerJSON(p, true))
}

// checkStaffExists records a problem on staff_id when no staff account has
// id; it returns only errors of the store itself.
func (s *Server) checkStaffExists(ctx context.Context, pr *booking.Problems, id uuid.UUID) error {
	_, err := s.store.StaffByID(ctx, id)
	if errors.Is(err, booking.ErrNotFound) {
		pr.Add("staff_id", booking.FieldNotFound, "is not a known staff account")
		return nil
	}
	return err
}

// UpdateProvider changes a provider's name, title or active flag.
func (s *Server) UpdateProvider(c *gin.Context, id uuid.UUID) {
	var in api.ProviderUpdate
	if !s.decodeJSON(c, &in) {
		return
	}
	if in.Name == nil && in.Title == nil && in.Active == nil {
		s.fail(c, errNoChange)
		return
	}
	p, err := s.store.UpdateProvider(c.Request.Context(), id, func(p *booking.Provider) error {
		setIf(&p.Name, in.Name)
		setIf(&p.Title, in.Title)
		setIf(&p.Active, in.Active)
		return p.Validate()
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, providerJSON(p, true))
}

func providerJSON(p booking.Provider, staff bool) api.Provider {
	out := api.Provider{Id: p.ID, Name: p.Name, Title: p.Title, Active: p.Active}
	if staff {
		out.StaffId = p.StaffID
	}
	return out
}

// ListLocations lists the locations by name, in the requested language.
func (s *Server) ListLocations(c *gin.Context, params api.ListLocationsParams) {
	locale, err := requestLocale(params.Locale, params.AcceptLanguage)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, err := s.store.ListLocations(c.Request.Context(), isStaff(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.LocationList{Items: make([]api.Location, 0, len(items))}
	for _, l := range items {
		out.Items = append(out.Items, locationJSON(l.Localized(locale)))
	}
	c.Writer.Header().Add("Vary", "Accept-Language")
	c.JSON(http.StatusOK, out)
}

// GetLocation returns one location, in the requested language.
func (s *Server) GetLocation(c *gin.Context, id uuid.UUID, params api.GetLocationParams) {
	locale, err := requestLocale(params.Locale, params.AcceptLanguage)
	if err != nil {
		s.fail(c, err)
		return
	}
	l, err := s.store.Location(c.Request.Context(), id)
	if err == nil && !l.Active && !isStaff(c) {
		err = booking.ErrNotFound
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Writer.Header().Add("Vary", "Accept-Language")
	c.JSON(http.StatusOK, locationJSON(l.Localized(locale)))
}

// CreateLocation adds a location; its timezone must be a known IANA name.
func (s *Server) CreateLocation(c *gin.Context) {
	var in api.LocationCreate
	if !s.decodeJSON(c, &in) {
		return
	}
	l := booking.Location{ID: uuid.New(), Name: in.Name, Description: deref(in.Description), Address: in.Address,
		Timezone: in.Timezone, Phone: deref(in.Phone), OpeningHours: deref(in.OpeningHours),
		Translations: translationsOf(in.Translations), Active: true, CreatedAt: s.now()}
	if err := l.Validate(); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.CreateLocation(c.Request.Context(), l); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/v1/locations/"+l.ID.String())
	c.JSON(http.StatusCreated, locationJSON(l))
}

// UpdateLocation changes a location's name, address, timezone or active
// flag.
func (s *Server) UpdateLocation(c *gin.Context, id uuid.UUID) {
	var in api.LocationUpdate
	if !s.decodeJSON(c, &in) {
		return
	}
	if in.Name == nil && in.Address == nil && in.Timezone == nil && in.Active == nil && in.Description == nil &&
		in.Phone == nil && in.OpeningHours == nil && in.Translations == nil {
		s.fail(c, errNoChange)
		return
	}
	l, err := s.store.UpdateLocation(c.Request.Context(), id, func(l *booking.Location) error {
		setIf(&l.Name, in.Name)
		setIf(&l.Address, in.Address)
		setIf(&l.Timezone, in.Timezone)
		setIf(&l.Active, in.Active)
		setIf(&l.Description, in.Description)
		setIf(&l.Phone, in.Phone)
		setIf(&l.OpeningHours, in.OpeningHours)
		if in.Translations != nil {
			l.Translations = translationsOf(in.Translations)
		}
		return l.Validate()
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, locationJSON(l))
}

func locationJSON(l booking.Location) api.Location {
	return api.Location{Id: l.ID, Name: l.Name, Description: &l.Description, Address: l.Address, Timezone: l.Timezone,
		Phone: &l.Phone, OpeningHours: &l.OpeningHours, Translations: translationsJSON(l.Translations), Active: l.Active}
}

// ListConsultationTypes lists the consultation types by name, in the
// requested language.
func (s *Server) ListConsultationTypes(c *gin.Context, params api.ListConsultationTypesParams) {
	locale, err := requestLocale(params.Locale, params.AcceptLanguage)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, err := s.store.ListConsultationTypes(c.Request.Context(), isStaff(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.ConsultationTypeList{Items: make([]api.ConsultationType, 0, len(items))}
	for _, ct := range items {
		out.Items = append(out.Items, consultationTypeJSON(ct.Localized(locale)))
	}
	c.Writer.Header().Add("Vary", "Accept-Language")
	c.JSON(http.StatusOK, out)
}

// GetConsultationType returns one consultation type, in the requested
// language.
func (s *Server) GetConsultationType(c *gin.Context, id uuid.UUID, params api.GetConsultationTypeParams) {
	locale, err := requestLocale(params.Locale, params.AcceptLanguage)
	if err != nil {
		s.fail(c, err)
		return
	}
	ct, err := s.store.ConsultationType(c.Request.Context(), id)
	if err == nil && !ct.Active && !isStaff(c) {
		err = booking.ErrNotFound
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Writer.Header().Add("Vary", "Accept-Language")
	c.JSON(http.StatusOK, consultationTypeJSON(ct.Localized(locale)))
}

// CreateConsultationType adds a consultation type.
func (s *Server) CreateConsultationType(c *gin.Context) {
	var in api.ConsultationTypeCreate
	if !s.decodeJSON(c, &in) {
		return
	}
	ct := booking.ConsultationType{ID: uuid.New(), Name: in.Name, Description: deref(in.Description),
		DurationMinutes: in.DurationMinutes, RequiresConfirmation: deref(in.RequiresConfirmation),
		Translations: translationsOf(in.Translations), Active: true, CreatedAt: s.now()}
	if err := ct.Validate(); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.CreateConsultationType(c.Request.Context(), ct); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/v1/consultation-types/"+ct.ID.String())
	c.JSON(http.StatusCreated, consultationTypeJSON(ct))
}

// UpdateConsultationType changes any field of a consultation type.
func (s *Server) UpdateConsultationType(c *gin.Context, id uuid.UUID) {
	var in api.ConsultationTypeUpdate
	if !s.decodeJSON(c, &in) {
		return
	}
	if in.Name == nil && in.Description == nil && in.DurationMinutes == nil &&
		in.RequiresConfirmation == nil && in.Active == nil && in.Translations == nil {
		s.fail(c, errNoChange)
		return
	}
	ct, err := s.store.UpdateConsultationType(c.Request.Context(), id, func(ct *booking.ConsultationType) error {
		setIf(&ct.Name, in.Name)
		setIf(&ct.Description, in.Description)
		setIf(&ct.DurationMinutes, in.DurationMinutes)
		setIf(&ct.RequiresConfirmation, in.RequiresConfirmation)
		setIf(&ct.Active, in.Active)
		if in.Translations != nil {
			ct.Translations = translationsOf(in.Translations)
		}
		return ct.Validate()
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, consultationTypeJSON(ct))
}

func consultationTypeJSON(ct booking.ConsultationType) api.ConsultationType {
	desc := ct.Description
	return api.ConsultationType{Id: ct.ID, Name: ct.Name, Description: &desc, DurationMinutes: ct.DurationMinutes,
		RequiresConfirmation: ct.RequiresConfirmation, Translations: translationsJSON(ct.Translations), Active: ct.Active}
}

// setIf sets *dst to *v when v is not nil: a PATCH field that was sent.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// parseID parses a UUID field of a request body, recording a problem on
// field when it is not one.
func parseID(pr *booking.Problems, field, s string) (uuid.UUID, bool) {
	id, err := booking.ParseID(s)
	if err != nil || id == uuid.Nil {
		if s == "" {
			pr.Add(field, booking.FieldRequired, "is required")
		} else {
			pr.Add(field, booking.FieldFormat, "must be a UUID")
		}
		return uuid.Nil, false
	}
	return id, true
}

// parseQueryID parses an optional UUID query parameter; nil when absent.
func parseQueryID(pr *booking.Problems, field string, s *string) *uuid.UUID {
	if s == nil {
		return nil
	}
	id, ok := parseID(pr, field, *s)
	if !ok {
		return nil
	}
	return &id
}

// combine merges the problems found while parsing a request (parsed) with
// those of the domain's validation (validated), which may repeat a field
// that did not parse; skip names further fields whose validation messages
// are meaningless because something they depend on did not parse. A
// validated error that is not a *booking.ValidationError is returned as is.
func combine(parsed, validated error, skip ...string) error {
	var pv, vv *booking.ValidationError
	if validated != nil && !errors.As(validated, &vv) {
		return validated
	}
	if !errors.As(parsed, &pv) {
		return validated
	}
	if vv == nil {
		return pv
	}
	seen := map[string]bool{}
	for _, f := range pv.Fields {
		seen[f.Field] = true
	}
	for _, f := range skip {
		seen[f] = true
	}
	out := append([]booking.FieldError(nil), pv.Fields...)
	for _, f := range vv.Fields {
		if !seen[f.Field] {
			out = append(out, f)
		}
	}
	return &booking.ValidationError{Fields: out}
}
