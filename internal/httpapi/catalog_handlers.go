package httpapi

import (
	"github.com/google/uuid"
	"net/http"

	"github.com/gin-gonic/gin"
)

// TODO(parallel work): this file holds placeholders until the area is built.

func (s *Server) ListConsultationTypes(c *gin.Context) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) CreateConsultationType(c *gin.Context) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) GetConsultationType(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) UpdateConsultationType(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) ListLocations(c *gin.Context) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) CreateLocation(c *gin.Context) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) GetLocation(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) UpdateLocation(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) ListProviders(c *gin.Context) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) CreateProvider(c *gin.Context) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) GetProvider(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) UpdateProvider(c *gin.Context, id uuid.UUID) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}
