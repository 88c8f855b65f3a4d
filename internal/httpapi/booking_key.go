package httpapi

import (
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
)

// bookingID resolves the {id} of a staff booking route, a booking id or a
// booking reference (the code a caller reads out), to the booking's id, so
// the handler behind it works with ids only. An unknown reference answers
// 404 like an unknown id; ok is false when an answer was sent. Only staff
// routes call it: the patient's routes keep asking for the manage token.
func (s *Server) bookingID(c *gin.Context, key api.BookingKey) (uuid.UUID, bool) {
	if id, err := booking.ParseID(key); err == nil {
		return id, true
	}
	id, err := s.store.BookingIDByReference(c.Request.Context(), key)
	if err != nil {
		s.fail(c, err)
		return uuid.Nil, false
	}
	return id, true
}
