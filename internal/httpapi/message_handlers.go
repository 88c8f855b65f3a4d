package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/notify"
)

// GetBookingRequestCalendar serves the patient's appointment as an
// iCalendar file, the one the emails attach. An unknown reference and a
// wrong token are the same 404.
func (s *Server) GetBookingRequestCalendar(c *gin.Context, reference string, params api.GetBookingRequestCalendarParams) {
	ctx := c.Request.Context()
	b, slot, err := s.store.BookingByReference(ctx, reference, params.XBookingToken)
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := notify.LoadDetails(ctx, s.store, b, slot)
	if err != nil {
		s.fail(c, err)
		return
	}
	ics, err := notify.CalendarFile(d, s.calendar.ClinicName, s.calendar.UIDDomain, s.calendar.Organizer, false)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="appointment-`+b.Reference+`.ics"`)
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", ics)
}

// ListMessages lists patient messages in one status, newest first, or
// every message about one patient's bookings (reception and admins).
func (s *Server) ListMessages(c *gin.Context, params api.ListMessagesParams) {
	status := delivery.StatusFailed
	if params.PatientId != nil {
		status = delivery.StatusAny
	}
	if params.Status != nil {
		st, err := delivery.ParseStatus(string(*params.Status))
		if err != nil {
			s.fail(c, errUnprocessable("status", booking.FieldFormat, err.Error()))
			return
		}
		status = st
	}
	limit := 50 // the parameter check has held a given limit to 1..200
	if params.Limit != nil {
		limit = *params.Limit
	}
	ctx := c.Request.Context()
	var (
		items []delivery.Message
		next  string
		err   error
	)
	if params.PatientId != nil {
		var ids []string
		ids, err = s.patientBookingIDs(ctx, *params.PatientId)
		if err == nil {
			items, next, err = s.queue.ListAbout(ctx, status, notify.Kinds, "booking_id", ids, deref(params.Cursor), limit)
		}
	} else {
		items, next, err = s.queue.List(ctx, status, notify.Kinds, deref(params.Cursor), limit)
	}
	if errors.Is(err, delivery.ErrBadCursor) {
		s.fail(c, errUnprocessable("cursor", booking.FieldNotFound, "is not a cursor of this list"))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.MessageList{Items: make([]api.Message, 0, len(items)), NextCursor: nonEmpty(next)}
	for _, m := range items {
		out.Items = append(out.Items, messageJSON(m))
	}
	if err := s.withBookings(ctx, out.Items); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// withBookings fills in each message's booking summary, read for the
// whole page at once (a message whose booking is gone keeps null).
func (s *Server) withBookings(ctx context.Context, items []api.Message) error {
	ids := make([]uuid.UUID, 0, len(items))
	seen := make(map[uuid.UUID]bool, len(items))
	for _, m := range items {
		if m.BookingId != uuid.Nil && !seen[m.BookingId] {
			seen[m.BookingId] = true
			ids = append(ids, m.BookingId)
		}
	}
	found, err := s.store.BookingSummaries(ctx, ids)
	if err != nil {
		return err
	}
	for i := range items {
		if b, ok := found[items[i].BookingId]; ok {
			items[i].Booking = &api.MessageBooking{
				Reference: b.Reference, Status: api.BookingStatus(b.Status), PatientId: uuidOrNil(b.PatientID),
				FirstName: b.FirstName, LastName: b.LastName, StartAt: b.StartAt, Timezone: b.Timezone,
			}
		}
	}
	return nil
}

// patientBookingIDs are the ids of a patient's bookings (the newest the
// record shows); none for an unknown patient.
func (s *Server) patientBookingIDs(ctx context.Context, id uuid.UUID) ([]string, error) {
	bookings, err := s.store.PatientBookings(ctx, id)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(bookings))
	for i, b := range bookings {
		ids[i] = b.Booking.ID.String()
	}
	return ids, nil
}

// RetryMessage makes a failed patient message due again (reception and
// admins).
func (s *Server) RetryMessage(c *gin.Context, id int64) {
	m, err := s.queue.Retry(c.Request.Context(), id, notify.Kinds)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := []api.Message{messageJSON(m)}
	if err := s.withBookings(c.Request.Context(), out); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out[0])
}

func messageJSON(m delivery.Message) api.Message {
	var args notify.Message
	_ = json.Unmarshal(m.Args, &args) // written by notify; a bad row shows empty fields
	channel := api.MessageChannel("email")
	if m.Kind == notify.KindSMS {
		channel = api.MessageChannel("sms")
	}
	out := api.Message{
		Id: m.ID, Channel: channel, Template: api.MessageTemplate(args.Template), BookingId: args.BookingID,
		Status: api.MessageStatus(m.Status), Attempts: m.Attempts, CreatedAt: m.CreatedAt.UTC(),
		ScheduledAt: m.ScheduledAt.UTC(), NextAttemptAt: utcPtr(m.NextAttemptAt),
		LastAttemptAt: utcPtr(m.LastAttemptAt), FinishedAt: utcPtr(m.FinishedAt),
	}
	if id, err := uuid.Parse(args.ID); err == nil {
		out.MessageId = id
	}
	if m.LastError != "" {
		out.LastError = &m.LastError
	}
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
