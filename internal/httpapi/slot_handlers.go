package httpapi

import (
	"github.com/google/uuid"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
)

// TODO(parallel work): this file holds placeholders until the area is built.

func (s *Server) GetAvailability(c *gin.Context, params api.GetAvailabilityParams) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) ListSlots(c *gin.Context, params api.ListSlotsParams) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) CreateSlot(c *gin.Context) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) DeleteSlot(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) GetSlot(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) UpdateSlot(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}
