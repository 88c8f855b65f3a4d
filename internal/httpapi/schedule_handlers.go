package httpapi

import (
	"github.com/google/uuid"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
)

// TODO(parallel work): this file holds placeholders until the area is built.

func (s *Server) ListSchedules(c *gin.Context, params api.ListSchedulesParams) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) CreateSchedule(c *gin.Context) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) DeleteSchedule(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) GetSchedule(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) UpdateSchedule(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) GenerateScheduleSlots(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}
