package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// availabilityCacheControl lets browsers and shared caches keep an
// availability response but makes them revalidate it on every use: with the
// ETag that costs a 304 and no body when nothing changed, and a widget never
// shows a place that was taken since it last asked.
const availabilityCacheControl = "public, no-cache"

// staffAvailabilityCacheControl keeps a staff-window answer out of every
// cache: it is for one signed-in member of staff, and shows places the
// public may not book.
const staffAvailabilityCacheControl = "private, no-store"

// staffWindowOption names window=staff in the problems that refuse it.
const staffWindowOption = "window=staff (the front desk's free places)"

// offerWindow parses the window parameter of the availability routes and,
// for the staff window, checks the caller may ask for it (front desk:
// those who may book with POST /v1/bookings). It answers the problem and
// reports false when not.
func (s *Server) offerWindow(c *gin.Context, param *string) (booking.OfferWindow, bool) {
	w, err := booking.ParseOfferWindow(deref(param))
	if err != nil {
		// The spec's enum refuses other values before the handler runs.
		s.fail(c, errBadRequest("invalid_parameter", "window "+err.Error()))
		return "", false
	}
	if w == booking.StaffWindow && !s.staffOption(c, staffWindowOption, frontDesk) {
		return "", false
	}
	return w, true
}

// GetAvailability lists the slots the public can book, by local day; with
// window=staff, those the front desk is offered.
func (s *Server) GetAvailability(c *gin.Context, params api.GetAvailabilityParams) {
	window, ok := s.offerWindow(c, (*string)(params.Window))
	if !ok {
		return
	}
	var pr booking.Problems
	days, rangeErr := booking.ParseDateRange(params.From, params.To, booking.MaxAvailabilityDays)
	q := store.AvailabilityQuery{
		Days:               days,
		ConsultationTypeID: parseQueryID(&pr, "consultation_type_id", params.ConsultationTypeId),
		ProviderID:         parseQueryID(&pr, "provider_id", params.ProviderId),
		LocationID:         parseQueryID(&pr, "location_id", params.LocationId),
		Policy:             s.opts.Policy,
		Window:             window,
		Now:                s.now(),
	}
	if err := combine(rangeErr, pr.Err()); err != nil {
		s.fail(c, err)
		return
	}
	var (
		a            *availabilityAnswer
		err          error
		cacheControl = availabilityCacheControl
	)
	if window == booking.StaffWindow {
		// Never through the cache: its keys and expiries are the public
		// window's, and a staff answer must not reach the public.
		a, err = s.computeAvailability(c.Request.Context(), q, false)
		cacheControl = staffAvailabilityCacheControl
	} else {
		key := days.From.String() + "|" + days.To.String() + "|" + idKey(q.ConsultationTypeID) + "|" +
			idKey(q.ProviderID) + "|" + idKey(q.LocationID)
		a, err = s.availability(c.Request.Context(), key, q)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	etag := a.etag
	c.Header("ETag", etag)
	c.Header("Cache-Control", cacheControl)
	if params.IfNoneMatch != nil && etagMatches(*params.IfNoneMatch, etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", a.body)
}

// idKey is an optional id in a cache key: "" when absent.
func idKey(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 13.1.2):
// header is "*" or a list of entity tags, any of which may be weak (W/).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// ListSlots lists slots, open and blocked, by start.
func (s *Server) ListSlots(c *gin.Context, params api.ListSlotsParams) {
	var pr booking.Problems
	f := store.SlotFilter{
		ProviderID:         parseQueryID(&pr, "provider_id", params.ProviderId),
		LocationID:         parseQueryID(&pr, "location_id", params.LocationId),
		ConsultationTypeID: parseQueryID(&pr, "consultation_type_id", params.ConsultationTypeId),
	}
	if params.Status != nil {
		st, err := booking.ParseSlotStatus(string(*params.Status))
		if err != nil {
			pr.AddEnum("status", slotStatuses, "must be open or blocked")
		}
		f.Status = st
	}
	if params.From != nil {
		f.FromDate, f.StartFrom = parseBound(&pr, "from", *params.From)
	}
	if params.To != nil {
		f.ToDate, f.StartBefore = parseBound(&pr, "to", *params.To)
	}
	pr.Check(!booking.RangeOutOfOrder(f.FromDate, f.StartFrom, f.ToDate, f.StartBefore), "to", booking.FieldOutOfOrder, "must not be before from")
	if err := pr.Err(); err != nil {
		s.fail(c, err)
		return
	}
	items, next, err := s.store.ListSlots(c.Request.Context(), f, deref(params.Cursor), deref(params.Limit))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.SlotList{Items: make([]api.Slot, 0, len(items)), NextCursor: nonEmpty(next)}
	for _, sl := range items {
		out.Items = append(out.Items, slotJSON(sl))
	}
	c.JSON(http.StatusOK, out)
}

// slotStatuses are the values a slot's status takes.
var slotStatuses = []string{string(booking.SlotOpen), string(booking.SlotBlocked)}

// parseBound parses a from or to filter: a YYYY-MM-DD calendar day or an
// RFC 3339 instant. It records a problem on field when it is neither.
func parseBound(pr *booking.Problems, field, v string) (booking.Date, time.Time) {
	if d, err := booking.ParseDate(v); err == nil {
		return d, time.Time{}
	}
	if t, err := booking.ParseInstant(v); err == nil {
		return booking.Date{}, t
	}
	pr.Add(field, booking.FieldFormat, "must be a date (YYYY-MM-DD) or an RFC 3339 date-time with an offset")
	return booking.Date{}, time.Time{}
}

// CreateSlot creates one slot by hand.
func (s *Server) CreateSlot(c *gin.Context) {
	var in api.SlotCreate
	if !s.decodeJSON(c, &in) {
		return
	}
	var pr booking.Problems
	sl := booking.Slot{ID: uuid.New(), Capacity: 1, Status: booking.SlotOpen, CreatedAt: s.now()}
	sl.ProviderID, _ = parseID(&pr, "provider_id", in.ProviderId)
	sl.LocationID, _ = parseID(&pr, "location_id", in.LocationId)
	sl.ConsultationTypeID, _ = parseID(&pr, "consultation_type_id", in.ConsultationTypeId)
	start, errStart := booking.ParseInstant(in.StartAt)
	end, errEnd := booking.ParseInstant(in.EndAt)
	var skip []string
	if errStart != nil || errEnd != nil {
		// end_at's checks compare it with start_at: meaningless unless both parsed.
		skip = []string{"start_at", "end_at"}
	}
	if errStart != nil {
		pr.Add("start_at", booking.FieldFormat, errStart.Error())
	}
	if errEnd != nil {
		pr.Add("end_at", booking.FieldFormat, errEnd.Error())
	}
	// The database keeps whole seconds.
	sl.StartAt, sl.EndAt = start.Truncate(time.Second), end.Truncate(time.Second)
	if in.Capacity != nil {
		sl.Capacity = *in.Capacity
	}
	if err := combine(pr.Err(), booking.ValidateNewSlot(sl, s.now()), skip...); err != nil {
		s.fail(c, combine(err, s.store.CheckCatalogRefs(c.Request.Context(), sl.ProviderID, sl.LocationID, sl.ConsultationTypeID)))
		return
	}
	if err := s.store.CreateSlot(c.Request.Context(), sl); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/v1/slots/"+sl.ID.String())
	c.JSON(http.StatusCreated, slotJSON(sl))
}

// GetSlot returns one slot.
func (s *Server) GetSlot(c *gin.Context, id uuid.UUID) {
	sl, err := s.store.Slot(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, slotJSON(sl))
}

// UpdateSlot blocks or reopens a slot, or changes its capacity.
func (s *Server) UpdateSlot(c *gin.Context, id uuid.UUID) {
	var in api.SlotUpdate
	if !s.decodeJSON(c, &in) {
		return
	}
	if in.Status == nil && in.Capacity == nil {
		s.fail(c, errNoChange)
		return
	}
	var pr booking.Problems
	var patch store.SlotPatch
	if in.Status != nil {
		st, err := booking.ParseSlotStatus(string(*in.Status))
		if err != nil {
			pr.AddEnum("status", slotStatuses, "must be open or blocked")
		} else {
			patch.Status = &st
		}
	}
	if in.Capacity != nil {
		msg := fmt.Sprintf("must be between 1 and %d", booking.MaxCapacity)
		if pr.CheckLimit(*in.Capacity >= 1, "capacity", booking.FieldTooSmall, 1, msg) {
			pr.CheckLimit(*in.Capacity <= booking.MaxCapacity, "capacity", booking.FieldTooLarge, booking.MaxCapacity, msg)
		}
		patch.Capacity = in.Capacity
	}
	if err := pr.Err(); err != nil {
		s.fail(c, err)
		return
	}
	sl, err := s.store.UpdateSlot(c.Request.Context(), id, patch)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, slotJSON(sl))
}

// DeleteSlot deletes a slot that no booking refers to.
func (s *Server) DeleteSlot(c *gin.Context, id uuid.UUID) {
	if err := s.store.DeleteSlot(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func slotJSON(sl booking.Slot) api.Slot {
	return api.Slot{
		Id: sl.ID, ProviderId: sl.ProviderID, LocationId: sl.LocationID, ConsultationTypeId: sl.ConsultationTypeID,
		StartAt: sl.StartAt.UTC(), EndAt: sl.EndAt.UTC(), Capacity: sl.Capacity, Status: api.SlotStatus(sl.Status),
		Booked: sl.Booked, Remaining: sl.Remaining(), ScheduleId: sl.ScheduleID,
	}
}
