package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const requestIDHeader = "X-Request-ID"

var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestIDMiddleware gives every request an id, reusing a well-formed one a
// proxy sent, and echoes it in the response so support can find the log line.
func requestIDMiddleware(c *gin.Context) {
	id := c.GetHeader(requestIDHeader)
	if !safeRequestID.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Writer.Header().Set(requestIDHeader, id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.Writer.Header().Get(requestIDHeader) }

// routeOf is the route template that served c ("/v1/bookings/:id"), never
// the raw path: paths carry references and ids that identify patients.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// accessLog writes one line a request: method, route template, status,
// latency and request id. It never logs bodies, query strings or headers,
// which may hold health data or secrets.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := statusOf(c)
	s.log.LogAttrs(c.Request.Context(), levelFor(status), "request",
		slog.String("method", c.Request.Method),
		slog.String("route", routeOf(c)),
		slog.Int("status", status),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
		slog.String("request_id", requestID(c)),
	)
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}

// statusClientClosedRequest records a request whose client went away before
// the answer was ready (nginx's 499): not a server error, and never sent.
const statusClientClosedRequest = 499

// clientGone reports whether the client of c closed its connection (or
// gave up on HTTP/2) while the request was being served.
func clientGone(c *gin.Context) bool {
	return errors.Is(c.Request.Context().Err(), context.Canceled)
}

// statusOf is the status a request is logged and counted with: what was
// written, except that a request whose client went away before a
// successful answer was written is a 499, whatever error its abandoned work
// ended in (a cancelled query surfaces as a 500 otherwise).
func statusOf(c *gin.Context) int {
	status := c.Writer.Status()
	if clientGone(c) && (status >= 500 || !c.Writer.Written()) {
		return statusClientClosedRequest
	}
	return status
}

// Metrics are the Prometheus collectors of the HTTP layer and the product's
// figures: booking requests, booking transitions and rate-limited requests
// (their names are part of the service's contract), and the database
// pools'. The server counts what passes through it; the expiry job reports
// its expirations through Expired.
type Metrics struct {
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	bookings    *prometheus.CounterVec // booking_requests_total{source,result}
	transitions *prometheus.CounterVec // booking_transitions_total{transition,result}
	rateLimited *prometheus.CounterVec // rate_limited_total{route}
	// triageRefusals counts booking requests refused for emergency
	// answers: the only trace such a request leaves (no label, no health
	// data).
	triageRefusals prometheus.Counter // triage_refusals_total
	// triageScreens counts the emergency screens front ends showed before
	// sending anything (countEmergencyScreen): no label, no health data.
	triageScreens prometheus.Counter // triage_emergency_screens_total
	// waitlistFill observes, at each accepted waitlist offer, the time from
	// the offer being made to its accept: how long a freed place waited
	// for the patient who took it.
	waitlistFill prometheus.Histogram // waitlist_fill_seconds
}

// bookingSources names the routes that create bookings, by where the
// request comes from: the website (the patient) or the front desk (phone).
var bookingSources = map[string]string{
	"POST /v1/booking-requests": "web",
	"POST /v1/bookings":         "phone",
}

// bookingTransitions names the routes that move a booking between states.
var bookingTransitions = map[string]string{
	"POST /v1/bookings/:id/confirm":                   "confirm",
	"POST /v1/bookings/:id/decline":                   "decline",
	"POST /v1/bookings/:id/cancel":                    "cancel",
	"POST /v1/bookings/:id/reschedule":                "reschedule",
	"POST /v1/bookings/:id/check-in":                  "check_in",
	"POST /v1/bookings/:id/complete":                  "complete",
	"POST /v1/bookings/:id/no-show":                   "no_show",
	"POST /v1/booking-requests/:reference/cancel":     "cancel",
	"POST /v1/booking-requests/:reference/reschedule": "reschedule",
}

// problemCodeKey holds, in the Gin context, the code of the problem a
// request was answered with, for the product metrics' result label.
const problemCodeKey = "clinic.problem_code"

// resultOf is a product metric's result label: success for a 2xx answer
// ("replayed" for an Idempotency-Key replay), client_gone for a 499, and
// otherwise the problem's code, a closed list (slot_unavailable,
// invalid_transition, validation_failed, rate_limited, internal_error...).
func resultOf(c *gin.Context, status int, success string) string {
	switch {
	case status == statusClientClosedRequest:
		return "client_gone"
	case status < 300:
		if c.Writer.Header().Get("Idempotent-Replayed") == "true" {
			return "replayed"
		}
		return success
	}
	if code := c.GetString(problemCodeKey); code != "" {
		return code
	}
	return "status_" + strconv.Itoa(status)
}

// NewMetrics makes the metrics and registers them, with pools (the
// database's go_sql_* collectors) and the Go runtime's and the process's,
// on reg.
func NewMetrics(reg prometheus.Registerer, pools []prometheus.Collector) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency, by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
		bookings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "booking_requests_total",
			Help: "Requests to create a booking, by source (web, phone) and result (created, replayed, or the problem code such as slot_unavailable).",
		}, []string{"source", "result"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "booking_transitions_total",
			Help: "Requests to change a booking's state, by transition (confirm, cancel, check_in...) and result (ok, or the problem code such as invalid_transition).",
		}, []string{"transition", "result"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rate_limited_total",
			Help: "Requests refused with 429 by a rate limit or the login throttle, by route template.",
		}, []string{"route"}),
		triageRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "triage_refusals_total",
			Help: "Booking requests refused because the intake answers are an emergency (the patient was shown what to do now; nothing was kept).",
		}),
		triageScreens: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "triage_emergency_screens_total",
			Help: "Emergency screens a front end (the widget) showed from the intake form's triage rules before any request was sent; nothing about the patient is sent or kept.",
		}),
		waitlistFill: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "waitlist_fill_seconds",
			Help: "Time from a waitlist offer being made (the freed place held for the patient) to the patient accepting it, observed at each accept on the instance that served it.",
			// Offers are held WAITLIST_OFFER_TTL (30 minutes by default).
			Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200},
		}),
	}
	all := []prometheus.Collector{
		m.requests, m.latency, m.bookings, m.transitions, m.rateLimited, m.triageRefusals, m.triageScreens, m.waitlistFill,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	all = append(all, pools...)
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// Expired counts n pending bookings the expiry job moved to expired.
func (m *Metrics) Expired(n int) {
	if n > 0 {
		m.transitions.WithLabelValues("expire", "ok").Add(float64(n))
	}
}

func (m *Metrics) middleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := routeOf(c)
	status := statusOf(c)
	m.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
	key := c.Request.Method + " " + route
	if source, ok := bookingSources[key]; ok {
		m.bookings.WithLabelValues(source, resultOf(c, status, "created")).Inc()
	}
	if transition, ok := bookingTransitions[key]; ok {
		m.transitions.WithLabelValues(transition, resultOf(c, status, "ok")).Inc()
	}
	if status == http.StatusTooManyRequests {
		m.rateLimited.WithLabelValues(route).Inc()
	}
}

// recovery turns a panic into a logged 500 problem; the process lives on and
// the client sees no stack trace.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			s.log.ErrorContext(c.Request.Context(), "panic recovered",
				"request_id", requestID(c), "route", routeOf(c), "panic", fmt.Sprintf("%T", r))
			if !c.Writer.Written() {
				s.fail(c, fmt.Errorf("panic: %v", r))
			} else {
				c.Abort()
			}
		}
	}()
	c.Next()
}

// securityHeaders sets headers that cost nothing and close common holes. API
// responses are not cached unless a handler says otherwise.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	c.Next()
}

// bodyLimit caps request bodies at limit bytes; larger ones answer 413.
func (s *Server) bodyLimit(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			s.fail(c, &httpError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
				detail: fmt.Sprintf("the request body is larger than %d bytes", limit)})
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// corsMiddleware lets the configured website origins call the API from a
// browser; no origin is allowed by default. Origins the CORS package would
// refuse are an error here, not its panic. Requests from other origins
// are logged through refused.
func corsMiddleware(origins []string, refused *refusedOrigins) (gin.HandlerFunc, error) {
	if len(origins) == 0 {
		return func(c *gin.Context) {
			refused.check(c)
			c.Next()
		}, nil
	}
	cfg := cors.Config{
		AllowOrigins: origins,
		AllowMethods: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
		AllowHeaders: []string{"Content-Type", "Authorization", "Idempotency-Key", "X-Booking-Token", "X-Hold-Token",
			"If-Match", "If-None-Match", requestIDHeader},
		ExposeHeaders: []string{"ETag", "Retry-After", "Location", "Idempotent-Replayed", requestIDHeader},
		MaxAge:        10 * time.Minute,
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("CORS_ALLOWED_ORIGINS: %w", err)
	}
	handle := cors.New(cfg)
	return func(c *gin.Context) {
		refused.check(c)
		// Every answer depends on the Origin, also one to a request without
		// it (the hosted pages' own): a browser that cached that one must
		// not hand it, without Access-Control-Allow-Origin, to the widget on
		// the clinic's website.
		if c.GetHeader("Origin") == "" {
			c.Writer.Header().Add("Vary", "Origin")
		}
		handle(c)
	}, nil
}
