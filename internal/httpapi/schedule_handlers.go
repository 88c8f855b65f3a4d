package httpapi

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
)

// ListSchedules lists schedules, active and inactive, by creation time.
func (s *Server) ListSchedules(c *gin.Context, params api.ListSchedulesParams) {
	items, next, err := s.store.ListSchedules(c.Request.Context(), deref(params.Cursor), deref(params.Limit))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.ScheduleList{Items: make([]api.Schedule, 0, len(items)), NextCursor: nonEmpty(next)}
	for _, sc := range items {
		out.Items = append(out.Items, scheduleJSON(sc))
	}
	c.JSON(http.StatusOK, out)
}

// CreateSchedule adds a weekly template and, in the same transaction,
// generates its slots through MaxAdvance ahead; the rolling generation
// (package horizon) keeps it so.
func (s *Server) CreateSchedule(c *gin.Context) {
	var in api.ScheduleCreate
	if !s.decodeJSON(c, &in) {
		return
	}
	var pr booking.Problems
	sc := booking.Schedule{ID: uuid.New(), SlotMinutes: in.SlotMinutes, Capacity: 1, Active: true, CreatedAt: s.now()}
	sc.ProviderID, _ = parseID(&pr, "provider_id", in.ProviderId)
	sc.LocationID, _ = parseID(&pr, "location_id", in.LocationId)
	sc.ConsultationTypeID, _ = parseID(&pr, "consultation_type_id", in.ConsultationTypeId)
	if in.Capacity != nil {
		sc.Capacity = *in.Capacity
	}
	sc.ValidFrom, _ = parseDateField(&pr, "valid_from", in.ValidFrom)
	if to, ok := parseDateField(&pr, "valid_to", in.ValidTo); ok {
		sc.ValidTo = &to
	}
	var skip []string
	sc.Windows, skip = parseWindows(&pr, in.Windows)
	if err := combine(pr.Err(), sc.Validate(), skip...); err != nil {
		s.fail(c, combine(err, s.store.CheckCatalogRefs(c.Request.Context(), sc.ProviderID, sc.LocationID, sc.ConsultationTypeID)))
		return
	}
	sc, _, err := s.store.CreateScheduleAhead(c.Request.Context(), sc, s.now(), s.opts.Policy.MaxAdvance)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/v1/schedules/"+sc.ID.String())
	c.JSON(http.StatusCreated, scheduleJSON(sc))
}

// GetSchedule returns one schedule.
func (s *Server) GetSchedule(c *gin.Context, id uuid.UUID) {
	sc, err := s.store.Schedule(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, scheduleJSON(sc))
}

// UpdateSchedule changes a template; slots generated before stay as they
// are. A schedule active after the change is generated through MaxAdvance
// ahead at once, so a reactivated one need not wait for the next run.
func (s *Server) UpdateSchedule(c *gin.Context, id uuid.UUID) {
	var in api.ScheduleUpdate
	if !s.decodeJSON(c, &in) {
		return
	}
	if in.Windows == nil && in.SlotMinutes == nil && in.Capacity == nil && in.ValidFrom == nil &&
		in.ValidTo == nil && in.Active == nil {
		s.fail(c, errNoChange)
		return
	}
	var pr booking.Problems
	var from, to booking.Date
	var windows []booking.Window
	var skip []string
	if in.ValidFrom != nil {
		from, _ = parseDateField(&pr, "valid_from", *in.ValidFrom)
	}
	if in.ValidTo != nil {
		to, _ = parseDateField(&pr, "valid_to", *in.ValidTo)
	}
	if in.Windows != nil {
		windows, skip = parseWindows(&pr, *in.Windows)
	}
	if err := pr.Err(); err != nil {
		s.fail(c, err)
		return
	}
	sc, err := s.store.UpdateSchedule(c.Request.Context(), id, func(sc *booking.Schedule) error {
		if in.ValidFrom != nil {
			sc.ValidFrom = from
		}
		if in.ValidTo != nil {
			sc.ValidTo = &to
		}
		if in.Windows != nil {
			sc.Windows = windows
		}
		setIf(&sc.SlotMinutes, in.SlotMinutes)
		setIf(&sc.Capacity, in.Capacity)
		setIf(&sc.Active, in.Active)
		return combine(nil, sc.Validate(), skip...)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	if sc.Active {
		sc = s.keepAhead(c, sc)
	}
	c.JSON(http.StatusOK, scheduleJSON(sc))
}

// DeleteSchedule deletes a template; the slots it made stay.
func (s *Server) DeleteSchedule(c *gin.Context, id uuid.UUID) {
	if err := s.store.DeleteSchedule(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// GenerateScheduleSlots creates a schedule's slots for a range of days.
func (s *Server) GenerateScheduleSlots(c *gin.Context, id uuid.UUID) {
	var in api.GenerateRequest
	if !s.decodeJSON(c, &in) {
		return
	}
	r, err := booking.ParseDateRange(in.From, in.To, booking.MaxGenerateDays)
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.store.GenerateSlots(c.Request.Context(), id, r.From, r.To, s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, api.GenerateResult{Created: res.Created, Skipped: res.Skipped})
}

// keepAhead generates sc through MaxAdvance ahead and returns it as it is
// then. The change it follows is saved already, so a failure here (a
// deactivated provider, say) is only logged: the hourly run tries again.
func (s *Server) keepAhead(c *gin.Context, sc booking.Schedule) booking.Schedule {
	ctx := c.Request.Context()
	if _, err := s.store.KeepScheduleAhead(ctx, sc.ID, s.now(), s.opts.Policy.MaxAdvance); err != nil {
		s.log.InfoContext(ctx, "schedule not generated ahead", "schedule_id", sc.ID.String(), "error", err.Error())
		return sc
	}
	if now, err := s.store.Schedule(ctx, sc.ID); err == nil {
		return now
	}
	return sc
}

// parseDateField parses a YYYY-MM-DD body field, recording a problem on
// field when it is not one.
func parseDateField(pr *booking.Problems, field, v string) (booking.Date, bool) {
	if v == "" {
		pr.Add(field, booking.FieldRequired, "is required")
		return booking.Date{}, false
	}
	d, err := booking.ParseDate(v)
	if err != nil {
		pr.Add(field, booking.FieldFormat, err.Error())
		return booking.Date{}, false
	}
	return d, true
}

// parseWindows parses the windows of a schedule body, recording a problem
// on each field that does not parse ("windows[1].start"). It returns those
// fields' window paths too, whose further checks by Schedule.Validate would
// be meaningless.
func parseWindows(pr *booking.Problems, in []api.ScheduleWindow) ([]booking.Window, []string) {
	out := make([]booking.Window, len(in))
	var skip []string
	for i, w := range in {
		field := fmt.Sprintf("windows[%d]", i)
		bad := false
		d, err := booking.ParseWeekday(string(w.Weekday))
		if err != nil {
			pr.Add(field+".weekday", booking.FieldFormat, err.Error())
			bad = true
		}
		start, err := booking.ParseClock(w.Start)
		if err != nil {
			pr.Add(field+".start", booking.FieldFormat, err.Error())
			bad = true
		}
		end, err := booking.ParseEndClock(w.End)
		if err != nil {
			pr.Add(field+".end", booking.FieldFormat, err.Error())
			bad = true
		}
		if bad {
			skip = append(skip, field+".weekday", field+".start", field+".end")
			// Not a weekday: Validate reports only the weekday, which is
			// skipped, and compares no other window with it, so one bad
			// window neither hides nor causes problems in the others.
			d = -1
		}
		out[i] = booking.Window{Weekday: d, Start: start, End: end}
	}
	return out, skip
}

func scheduleJSON(sc booking.Schedule) api.Schedule {
	ws := make([]api.ScheduleWindow, len(sc.Windows))
	for i, w := range sc.Windows {
		ws[i] = api.ScheduleWindow{Weekday: api.Weekday(booking.WeekdayName(w.Weekday)), Start: w.Start.String(), End: w.End.String()}
	}
	validTo := ""
	if sc.ValidTo != nil {
		validTo = sc.ValidTo.String()
	}
	return api.Schedule{
		Id: sc.ID, ProviderId: sc.ProviderID, LocationId: sc.LocationID, ConsultationTypeId: sc.ConsultationTypeID,
		Windows: ws, SlotMinutes: sc.SlotMinutes, Capacity: sc.Capacity, ValidFrom: sc.ValidFrom.String(),
		ValidTo: validTo, Active: sc.Active, GeneratedThrough: dateOrNil(sc.GeneratedThrough),
	}
}

// dateOrNil returns d as YYYY-MM-DD, or nil (JSON null) when d is nil.
func dateOrNil(d *booking.Date) *string {
	if d == nil {
		return nil
	}
	v := d.String()
	return &v
}
