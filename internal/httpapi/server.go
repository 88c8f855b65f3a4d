// Package httpapi serves the booking API over HTTP with Gin. Handlers
// implement the interface generated from openapi.yaml (package api): they
// decode and validate input, call the store, and turn results into the
// spec's JSON shapes. Every error reaches the client through one mapping to
// application/problem+json (problem.go).
package httpapi

import (
	"context"
	"database/sql"
	"log"
	"log/slog"
	"net/http"
	"time"
	"weak"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/apidocs"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/limit"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/web"
)

// Options are the HTTP layer's settings.
type Options struct {
	BodyLimit          int64          // request body cap in bytes
	CORSAllowedOrigins []string       // website origins allowed to call the API
	Policy             booking.Policy // booking window rules
	PublicRateLimit    int            // public create requests a minute per client address; 0 off
	PublicHoldLimit    int            // live slot holds per client address; 0 means 2
	TrustedProxies     []string       // proxies whose X-Forwarded-For is believed
	// RateCounter holds the public rate limit's counts; nil means a new
	// in-memory one (one process). Several instances need a shared one.
	RateCounter limit.Counter
	// Draining, when set and true, makes /readyz answer 503 so that a load
	// balancer stops sending requests before the server shuts down.
	Draining func() bool
	// AvailabilityConcurrency bounds the availability answers computed from
	// the database at once (cache misses); 0 means one a CPU, a negative
	// number leaves them unbounded (for the load tool's comparison).
	AvailabilityConcurrency int
	// AvailabilityCacheBytes bounds the availability cache; 0 means 8 MB.
	// Only the load tool sets it, to compare with other bounds.
	AvailabilityCacheBytes int
	// NoAvailabilityCache serves every GET /v1/availability from the
	// database; for benchmarks and for ruling the cache out when debugging.
	NoAvailabilityCache bool
	// ClinicPhone is the clinic's phone number (E.164) for the emergency
	// screen of the intake form; "" for none.
	ClinicPhone string
	// FeedHeartbeat is how often an idle event stream sends a comment line;
	// 0 means 15 seconds.
	FeedHeartbeat time.Duration
	// FeedRecheck is how often an open event stream reads again whether its
	// caller may still have it (account active, password and session
	// unchanged); 0 means 2 seconds. It is read before every event too.
	FeedRecheck time.Duration
	// FeedMaxStreamsPerStaff caps the event streams one staff member holds
	// open on this instance at once; one more is refused with 429
	// too_many_streams. 0 means 5; a negative number leaves them uncapped.
	FeedMaxStreamsPerStaff int
	// MetricsElsewhere makes GET /metrics answer 404 here: the metrics are
	// served on an address of their own (METRICS_ADDR) that need not face
	// the internet.
	MetricsElsewhere bool
	// PrivacyPolicyURL is the clinic's privacy policy, linked from the
	// widget's consent box; empty when not configured.
	PrivacyPolicyURL string

	// WaitlistOfferTTL is how long a waitlist offer holds its place; 0
	// means DefaultWaitlistOfferTTL (30 minutes).
	WaitlistOfferTTL time.Duration
}

// Deps are the dependencies of the HTTP layer, passed in by the caller.
type Deps struct {
	Store    *store.Store
	Auth     *auth.Service
	Log      *slog.Logger
	Registry *prometheus.Registry // metrics are registered here and served at /metrics
	// Metrics, when set, were made with NewMetrics on Registry (so that the
	// expiry job can report to them too); nil makes them here.
	Metrics *Metrics
	Now     func() time.Time
	Options Options
	// Done, when closed, ends the long-lived responses (event streams), so
	// that a graceful shutdown need not wait for their clients to leave.
	// Optional.
	Done <-chan struct{}
	// Webhooks checks endpoint URLs and queues redeliveries; nil: URLs are
	// checked strictly and redelivery is unavailable.
	Webhooks Webhooks
	// WaitlistLinks sends a waitlist entry's link again when its patient
	// joins a second time with the same details; nil: it is not sent.
	WaitlistLinks WaitlistLinks
	// Queue is the delivery queue of patient messages (admin message
	// routes).
	Queue *delivery.Queue
	// Calendar says how patients' calendar files name the clinic.
	Calendar CalendarOptions
}

// CalendarOptions are the settings of the patient's calendar file.
type CalendarOptions struct {
	ClinicName string
	UIDDomain  string // event UIDs are the booking id at this domain
	Organizer  string // the clinic's email address; optional
	// PublicBaseURL is where the server is reached from outside, without a
	// trailing slash: provider feed URLs start with it. Empty: the address
	// of the request that made the feed.
	PublicBaseURL string
}

// WaitlistLinks writes the messages that send a waitlist entry's link
// again (notify.WaitlistOffers does).
type WaitlistLinks interface {
	// ResendLinkTx writes, in tx, the email and text message jobs that send
	// e's link to its patient by consent, and reports whether it wrote any.
	ResendLinkTx(ctx context.Context, tx *sql.Tx, e booking.WaitlistEntry) (bool, error)
}

// Server implements api.ServerInterface.
type Server struct {
	store   *store.Store
	auth    *auth.Service
	log     *slog.Logger
	now     func() time.Time
	opts    Options
	metrics http.Handler
	prom    *Metrics
	public  publicLimiter

	availCache *availabilityCache // answers of GET /v1/availability
	widget     web.Asset          // /widget.js
	heavy      heavySlots         // bounds the availability computations at once

	feedHeartbeat time.Duration
	feedRecheck   time.Duration
	feedStreams   *streamSlots // open event streams per staff member
	done          <-chan struct{}
	webhooks      Webhooks
	queue         *delivery.Queue
	waitlistLinks WaitlistLinks
	calendar      CalendarOptions
	bodies        bodySchemas  // request body schemas from openapi.yaml
	params        paramSchemas // parameters from openapi.yaml
	validParams   *paramMemo   // parameter values found valid (see checkParams)
}

var _ api.ServerInterface = (*Server)(nil)

// testHookServer, when set (by the tests), sees every Server NewServer
// makes.
var testHookServer func(*Server)

// NewServer returns the service's HTTP handler.
func NewServer(d Deps) (http.Handler, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Options.RateCounter == nil {
		d.Options.RateCounter = limit.NewMemory()
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
		public:  publicLimiter{counter: d.Options.RateCounter, perMinute: d.Options.PublicRateLimit},

		widget:        web.WidgetScript(),
		availCache:    newAvailabilityCache(d.Options.AvailabilityCacheBytes),
		heavy:         newHeavySlots(d.Options.AvailabilityConcurrency),
		queue:         d.Queue,
		waitlistLinks: d.WaitlistLinks,
		calendar:      d.Calendar,

		feedHeartbeat: d.Options.FeedHeartbeat,
		feedRecheck:   d.Options.FeedRecheck,
		feedStreams:   newStreamSlots(d.Options.FeedMaxStreamsPerStaff),
		done:          d.Done,
		webhooks:      d.Webhooks,
	}
	if s.webhooks == nil {
		s.webhooks = noWebhooks{}
	}
	if s.feedHeartbeat <= 0 {
		s.feedHeartbeat = defaultFeedHeartbeat
	}
	if s.feedRecheck <= 0 {
		s.feedRecheck = defaultFeedRecheck
	}
	m := d.Metrics
	if m == nil {
		var err error
		if m, err = NewMetrics(d.Registry, d.Store.PoolCollectors()); err != nil {
			return nil, err
		}
	}
	s.prom = m
	if err := s.registerHoldGauge(d.Registry); err != nil {
		return nil, err
	}
	if err := d.Registry.Register(waitlistCollector{s.store}); err != nil {
		return nil, err
	}
	doc, err := loadSpec()
	if err != nil {
		return nil, err
	}
	s.bodies, s.params, s.validParams = loadBodySchemas(doc), loadParamSchemas(doc), newParamMemo()
	if !s.opts.NoAvailabilityCache {
		// Places taken and freed patch the cached answers instead of
		// dropping them (see availabilityCache.patch). The store holds the
		// cache weakly: a server let go takes its cache with it.
		cache := weak.Make(s.availCache)
		s.store.OnPlaces(func(places []store.SlotPlaces) bool {
			c := cache.Value()
			if c != nil {
				c.patch(places)
			}
			return c != nil
		})
	}
	if testHookServer != nil {
		testHookServer(s)
	}
	return s.routes(m)
}

// NewHTTPServer wraps h in the http.Server the service runs with: its
// timeouts and header limit, so a slow or idle client cannot hold a
// connection for ever. errorLog receives the server's own errors (nil: the
// log package's standard logger). The server binary and the load tool both
// use it, so the load tool measures the server as it is deployed.
func NewHTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          errorLog,
	}
}

// GetHealthz answers while the process is up.
func (s *Server) GetHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, api.Health{Status: "ok"})
}

// GetReadyz answers 200 when the database answers, 503 when it does not or
// while the server drains before shutting down.
func (s *Server) GetReadyz(c *gin.Context) {
	if s.opts.Draining != nil && s.opts.Draining() {
		s.failf(c, http.StatusServiceUnavailable, "not_ready", "the server is shutting down")
		return
	}
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
	if s.opts.MetricsElsewhere {
		s.failf(c, http.StatusNotFound, "not_found", "no route %s %s", c.Request.Method, c.Request.URL.Path)
		return
	}
	s.metrics.ServeHTTP(c.Writer, c.Request)
}

// GetDocs serves the interactive API reference, under the policy it was
// built to work with.
func (s *Server) GetDocs(c *gin.Context) {
	c.Header("Content-Security-Policy", apidocs.ContentSecurityPolicy)
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "text/html; charset=utf-8", apidocs.Page())
}

// GetDocsScript serves the reference page's renderer.
func (s *Server) GetDocsScript(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=86400")
	c.Header("ETag", apidocs.ScriptETag())
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", apidocs.Script())
}

// GetOpenAPISpec serves the OpenAPI document the server was built from.
func (s *Server) GetOpenAPISpec(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/yaml", api.SpecYAML())
}
