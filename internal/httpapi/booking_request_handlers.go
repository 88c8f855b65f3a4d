package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
)

// TODO(parallel work): this file holds placeholders until the area is built.

func (s *Server) CreateBookingRequest(c *gin.Context, params api.CreateBookingRequestParams) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) GetBookingRequest(c *gin.Context, reference string, params api.GetBookingRequestParams) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) CancelBookingRequest(c *gin.Context, reference string, params api.CancelBookingRequestParams) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}

func (s *Server) RescheduleBookingRequest(c *gin.Context, reference string, params api.RescheduleBookingRequestParams) {
	s.failf(c, http.StatusNotImplemented, "not_implemented", "not implemented yet")
}
