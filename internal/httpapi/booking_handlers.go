package httpapi

import (
	"github.com/google/uuid"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
)

// TODO(parallel work): this file holds placeholders until the area is built.

func (s *Server) ListBookings(c *gin.Context, params api.ListBookingsParams) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) CreateBooking(c *gin.Context, params api.CreateBookingParams) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) GetBooking(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) UpdateBooking(c *gin.Context, id uuid.UUID, params api.UpdateBookingParams) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) CancelBooking(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) CheckInBooking(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) CompleteBooking(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) ConfirmBooking(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) DeclineBooking(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) ListBookingEvents(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) MarkNoShowBooking(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) RescheduleBooking(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}
