package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
)

// ListPatients finds patient records.
func (s *Server) ListPatients(c *gin.Context, params api.ListPatientsParams) {
	q := strings.TrimSpace(deref(params.Q))
	if len([]rune(q)) > 200 {
		s.fail(c, booking.InvalidLimit("q", booking.FieldTooLong, 200, "must be at most 200 characters"))
		return
	}
	items, visits, next, err := s.store.SearchPatients(c.Request.Context(), q, deref(params.Cursor), deref(params.Limit))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.PatientRecordList{Items: make([]api.PatientRecord, 0, len(items)), NextCursor: nonEmpty(next)}
	for _, r := range items {
		out.Items = append(out.Items, withVisits(patientRecordJSON(r), visits[r.ID]))
	}
	c.JSON(http.StatusOK, out)
}

// GetPatient returns a record with its bookings, newest first.
func (s *Server) GetPatient(c *gin.Context, id uuid.UUID) {
	ctx := c.Request.Context()
	r, err := s.store.Patient(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	bookings, err := s.store.PatientBookings(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	visits, err := s.store.PatientVisits(ctx, []uuid.UUID{id})
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.PatientRecordDetail{Patient: withVisits(patientRecordJSON(r), visits[id]), Bookings: make([]api.Booking, 0, len(bookings))}
	for _, b := range bookings {
		out.Bookings = append(out.Bookings, s.bookingJSON(b.Booking, b.Slot))
	}
	c.Header("ETag", etag(r.Version))
	c.JSON(http.StatusOK, out)
}

// UpdatePatient corrects a record's details under If-Match.
func (s *Server) UpdatePatient(c *gin.Context, id uuid.UUID, params api.UpdatePatientParams) {
	if params.IfMatch == nil || strings.TrimSpace(*params.IfMatch) == "" {
		s.failf(c, http.StatusPreconditionRequired, "precondition_required", "send the patient's ETag in If-Match")
		return
	}
	expected, anyVersion, ok := parseIfMatch(*params.IfMatch)
	if !ok {
		s.fail(c, booking.ErrVersionMismatch)
		return
	}
	var in api.PatientRecordUpdate
	if !s.decodeJSON(c, &in) {
		return
	}
	now := s.now()
	patch, err := booking.ParsePatientPatch(booking.PatientPatchInput{
		FirstName: in.FirstName, LastName: in.LastName, DateOfBirth: in.DateOfBirth, Phone: in.Phone, Email: in.Email,
	}, now)
	if err != nil {
		s.fail(c, err)
		return
	}
	var want *int
	if !anyVersion {
		want = &expected
	}
	r, err := s.store.UpdatePatient(c.Request.Context(), id, want, func(r *booking.PatientRecord) (bool, error) {
		return r.Apply(patch, now), nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", etag(r.Version))
	c.JSON(http.StatusOK, patientRecordJSON(r))
}

// MergePatient moves a duplicate record's bookings into another record.
func (s *Server) MergePatient(c *gin.Context, id uuid.UUID) {
	p, ok := s.principal(c)
	if !ok {
		return
	}
	var in api.PatientMergeRequest
	if !s.decodeJSON(c, &in) {
		return
	}
	r, _, err := s.store.MergePatient(c.Request.Context(), id, in.Into, p.StaffID, c.ClientIP(), s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", etag(r.Version))
	c.JSON(http.StatusOK, patientRecordJSON(r))
}

// DeclinePatientPending declines every pending request of a patient, each
// as DeclineBooking would (its own transaction, history entry and patient
// message). A request that stopped being pending meanwhile is left alone.
func (s *Server) DeclinePatientPending(c *gin.Context, id uuid.UUID) {
	p, ok := s.principal(c)
	if !ok {
		return
	}
	var in api.DeclineRequest
	if !s.decodeJSON(c, &in) {
		return
	}
	if strings.TrimSpace(in.Reason) == "" {
		s.fail(c, booking.Invalid("reason", booking.FieldRequired, "is required"))
		return
	}
	ctx := c.Request.Context()
	ids, err := s.store.PendingBookingIDs(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	zones, err := s.store.LocationZones(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.now()
	out := api.PatientPendingDeclined{Declined: make([]api.Booking, 0, len(ids))}
	for _, bid := range ids {
		declined := false
		b, slot, err := s.store.UpdateBooking(ctx, bid, nil, func(b *booking.Booking, slot booking.Slot) ([]booking.Event, error) {
			if b.Status != booking.StatusPending {
				return nil, nil // confirmed, cancelled or declined meanwhile
			}
			loc, ok := zones[slot.LocationID]
			if !ok {
				return nil, fmt.Errorf("decline pending: location %s has no zone", slot.LocationID)
			}
			declined = true
			return s.opts.Policy.StaffTransition(b, slot, loc, booking.ActionDecline, booking.StaffActor(p.StaffID), in.Reason, now)
		})
		if err != nil {
			s.fail(c, err)
			return
		}
		if declined {
			out.Declined = append(out.Declined, s.bookingJSON(b, slot))
		}
	}
	c.JSON(http.StatusOK, out)
}

// withVisits adds a record's earlier visits (none when v is zero).
func withVisits(p api.PatientRecord, v booking.Visits) api.PatientRecord {
	p.Visits = &api.PatientVisits{Count: v.Count}
	if v.LastOn != nil {
		d := dateJSONOf(*v.LastOn)
		p.Visits.LastOn = &d
	}
	return p
}

func patientRecordJSON(r booking.PatientRecord) api.PatientRecord {
	return api.PatientRecord{
		Id: r.ID, FirstName: r.Details.FirstName, LastName: r.Details.LastName, DateOfBirth: r.Details.DateOfBirth.String(),
		Phone: r.Details.Phone, Email: nonEmpty(r.Details.Email), Version: r.Version, MergedInto: r.MergedInto,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}
