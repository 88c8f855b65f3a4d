package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/calendar"
)

// feedRoute is the provider feed's route as Gin knows it. Gin names a
// wildcard up to the next slash, so "{token}.ics" becomes a parameter named
// "token.ics" holding "TOKEN.ics"; feedToken splits it before the generated
// handler reads "token".
const feedRoute = "/v1/calendar-feeds/:token.ics"

// feedToken gives the provider feed route its "token" parameter: the last
// path segment without its ".ics". A segment without the suffix is no feed.
func (s *Server) feedToken(c *gin.Context) {
	if c.FullPath() != feedRoute {
		c.Next()
		return
	}
	seg := c.Param("token.ics")
	token, ok := strings.CutSuffix(seg, ".ics")
	if !ok || token == "" {
		s.failf(c, http.StatusNotFound, "not_found", "no such calendar feed")
		return
	}
	c.Params = append(c.Params, gin.Param{Key: "token", Value: token})
	c.Next()
}

// feedStatuses are the bookings a provider's feed shows: those that still
// take the provider's time, or did.
var feedStatuses = []booking.Status{booking.StatusPending, booking.StatusConfirmed, booking.StatusCheckedIn, booking.StatusCompleted}

// feedPast is how far back a provider's feed goes.
const feedPast = 30 * 24 * time.Hour

// feedRefresh is how often calendar apps are asked to fetch a feed again
// (most poll less often whatever the feed says).
const feedRefresh = 15 * time.Minute

// CreateProviderCalendarFeed makes a new feed token for the provider,
// replacing the old one, and answers it once.
func (s *Server) CreateProviderCalendarFeed(c *gin.Context, id uuid.UUID) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		s.fail(c, err)
		return
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	if err := s.store.SetProviderFeedToken(c.Request.Context(), id, booking.HashToken(token)); err != nil {
		s.fail(c, err)
		return
	}
	base := s.calendar.PublicBaseURL
	if base == "" {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + c.Request.Host
	}
	c.JSON(http.StatusCreated, api.CalendarFeed{Url: base + "/v1/calendar-feeds/" + token + ".ics", Token: token})
}

// RevokeProviderCalendarFeed ends the provider's feed URL without making a
// new one.
func (s *Server) RevokeProviderCalendarFeed(c *gin.Context, id uuid.UUID) {
	if err := s.store.RevokeProviderFeedToken(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// GetProviderCalendarFeed serves a provider's appointments as iCalendar.
func (s *Server) GetProviderCalendarFeed(c *gin.Context, token string, params api.GetProviderCalendarFeedParams) {
	ctx := c.Request.Context()
	providerID, err := s.store.ProviderByFeedToken(ctx, booking.HashToken(token))
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.now()
	items, err := s.store.ProviderBookings(ctx, providerID, now.Add(-feedPast), now.Add(s.opts.Policy.MaxAdvance), feedStatuses)
	if err != nil {
		s.fail(c, err)
		return
	}
	provider, err := s.store.Provider(ctx, providerID)
	if err != nil {
		s.fail(c, err)
		return
	}
	types := map[uuid.UUID]booking.ConsultationType{}
	locations := map[uuid.UUID]booking.Location{}
	zones := map[string]*time.Location{}
	clinic := s.calendar.ClinicName
	if clinic == "" {
		clinic = "Clinic"
	}
	cal := calendar.Calendar{
		ProductID:       "-//" + clinic + "//Provider feed//EN",
		Name:            provider.Name + " - " + clinic,
		RefreshInterval: feedRefresh,
	}
	for _, it := range items {
		ct, ok := types[it.Slot.ConsultationTypeID]
		if !ok {
			if ct, err = s.store.ConsultationType(ctx, it.Slot.ConsultationTypeID); err != nil {
				s.fail(c, err)
				return
			}
			types[ct.ID] = ct
		}
		loc, ok := locations[it.Slot.LocationID]
		if !ok {
			if loc, err = s.store.Location(ctx, it.Slot.LocationID); err != nil {
				s.fail(c, err)
				return
			}
			locations[loc.ID] = loc
		}
		zone, ok := zones[loc.Timezone]
		if !ok {
			if zone, err = time.LoadLocation(loc.Timezone); err != nil {
				s.fail(c, err)
				return
			}
			zones[loc.Timezone] = zone
		}
		status := calendar.Confirmed
		if it.Booking.Status == booking.StatusPending {
			status = calendar.Tentative
		}
		where := loc.Name
		if addr := strings.Join(strings.Fields(strings.ReplaceAll(loc.Address, "\n", ", ")), " "); addr != "" {
			where += ", " + addr
		}
		cal.Events = append(cal.Events, calendar.Event{
			UID:      it.Booking.ID.String() + "@" + s.uidDomain(),
			Sequence: max(it.Booking.Version-1, 0),
			Status:   status,
			Start:    it.Slot.StartAt,
			End:      it.Slot.EndAt,
			Zone:     zone,
			Summary:  ct.Name + " - " + initials(it.Booking.Patient) + " - " + it.Booking.Reference,
			Location: where,
			Updated:  it.Booking.UpdatedAt,
		})
	}
	ics, err := calendar.Encode(cal)
	if err != nil {
		s.fail(c, err)
		return
	}
	sum := sha256.Sum256(ics)
	tag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	c.Header("ETag", tag)
	// Revalidate every time; the token in the URL makes it private.
	c.Header("Cache-Control", "private, no-cache")
	if params.IfNoneMatch != nil && etagMatches(*params.IfNoneMatch, tag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", ics)
}

func (s *Server) uidDomain() string {
	if s.calendar.UIDDomain != "" {
		return s.calendar.UIDDomain
	}
	return "booking.invalid"
}

// initials is the patient as a provider's calendar names them: "A.L.".
func initials(p booking.Patient) string {
	var b strings.Builder
	for _, name := range []string{p.FirstName, p.LastName} {
		r, _ := utf8.DecodeRuneInString(strings.TrimSpace(name))
		if r != utf8.RuneError {
			b.WriteRune(unicode.ToUpper(r))
			b.WriteByte('.')
		}
	}
	return b.String()
}
