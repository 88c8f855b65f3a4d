// Package httpapi serves the booking API over HTTP with Gin. Handlers
// implement the interface generated from openapi.yaml (package api): they
// decode and validate input, call the store, and turn results into the
// spec's JSON shapes. Every error reaches the client through one mapping to
// application/problem+json (problem.go).
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// Options are the HTTP layer's settings.
type Options struct {
	BodyLimit          int64          // request body cap in bytes
	CORSAllowedOrigins []string       // website origins allowed to call the API
	Policy             booking.Policy // booking window rules
	PublicRateLimit    int            // public create requests a minute per client address; 0 off
	TrustedProxies     []string       // proxies whose X-Forwarded-For is believed
	// NoAvailabilityCache serves every GET /v1/availability from the
	// database; for benchmarks and for ruling the cache out when debugging.
	NoAvailabilityCache bool
}

// Deps are the dependencies of the HTTP layer, passed in by the caller.
type Deps struct {
	Store    *store.Store
	Auth     *auth.Service
	Log      *slog.Logger
	Registry *prometheus.Registry // metrics are registered here and served at /metrics
	Now      func() time.Time
	Options  Options
}

// Server implements api.ServerInterface.
type Server struct {
	store   *store.Store
	auth    *auth.Service
	log     *slog.Logger
	now     func() time.Time
	opts    Options
	metrics http.Handler
	public  *rateLimiter

	queryRules queryRules // the declared query parameters of each route

	availCache *availabilityCache // answers of GET /v1/availability
}

var _ api.ServerInterface = (*Server)(nil)

// NewServer returns the service's HTTP handler.
func NewServer(d Deps) (http.Handler, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Options.BodyLimit <= 0 {
		d.Options.BodyLimit = 64 << 10
	}
	s := &Server{
		store:   d.Store,
		auth:    d.Auth,
		log:     d.Log,
		now:     d.Now,
		opts:    d.Options,
		metrics: promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}),
		public:  newRateLimiter(d.Options.PublicRateLimit, time.Minute, d.Now),

		availCache: newAvailabilityCache(),
	}
	rules, err := loadQueryRules()
	if err != nil {
		return nil, err
	}
	s.queryRules = rules
	m, err := newMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	return s.routes(m)
}

// GetHealthz answers while the process is up.
func (s *Server) GetHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, api.Health{Status: "ok"})
}

// GetReadyz answers 200 when the database answers, 503 when it does not.
func (s *Server) GetReadyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "readiness check failed", "error", err.Error())
		s.failf(c, http.StatusServiceUnavailable, "not_ready", "the database is not reachable")
		return
	}
	c.JSON(http.StatusOK, api.Health{Status: "ok"})
}

// GetMetrics serves Prometheus metrics in the text format.
func (s *Server) GetMetrics(c *gin.Context) {
	s.metrics.ServeHTTP(c.Writer, c.Request)
}

// GetOpenAPISpec serves the OpenAPI document the server was built from.
func (s *Server) GetOpenAPISpec(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/yaml", api.SpecYAML())
}
