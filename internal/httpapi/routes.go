package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/auth"
)

// Who may call what. Every route the spec defines has exactly one entry here
// (a test walks the router to prove it); a route without one is refused to
// everybody. The keys are "METHOD /path" with Gin's :param syntax.
var (
	anyStaff      = []auth.Role{auth.RoleAdmin, auth.RoleReception, auth.RoleClinician}
	frontDesk     = []auth.Role{auth.RoleAdmin, auth.RoleReception}
	adminOnly     = []auth.Role{auth.RoleAdmin}
	publicRoute   = []auth.Role(nil)
	accessControl = map[string][]auth.Role{
		"GET /healthz":      publicRoute,
		"GET /readyz":       publicRoute,
		"GET /metrics":      publicRoute,
		"GET /openapi.yaml": publicRoute,
		"GET /widget.js":    publicRoute,
		"GET /book":         publicRoute,
		"GET /manage":       publicRoute,
		"GET /docs":         publicRoute,
		"GET /desk":         publicRoute, // the page; what it shows needs a staff sign-in
		"GET /desk/:screen": publicRoute,
		"GET /desk/app.js":  publicRoute,
		"GET /desk/app.css": publicRoute,

		"GET /docs/redoc.standalone.js": publicRoute,

		"GET /waitlist": publicRoute, // the patient's waitlist page; the token is in the fragment

		"POST /v1/auth/login":    publicRoute,
		"POST /v1/auth/refresh":  publicRoute,
		"POST /v1/auth/logout":   publicRoute, // the refresh token in the body is the credential
		"GET /v1/auth/me":        anyStaff,
		"POST /v1/auth/password": anyStaff,

		"GET /v1/staff":                          adminOnly,
		"GET /v1/intake-form/versions/:version":  adminOnly,
		"POST /v1/intake-form/emergency-screens": publicRoute,
		"POST /v1/staff":                         adminOnly,
		"GET /v1/staff/:id":                      adminOnly,
		"PATCH /v1/staff/:id":                    adminOnly,
		"GET /v1/audit-events":                   adminOnly,
		"GET /v1/messages":                       frontDesk, // the desk's Messages screen and patient record
		"POST /v1/messages/:id/retry":            frontDesk,

		"GET /v1/providers":                    publicRoute,
		"GET /v1/providers/:id":                publicRoute,
		"POST /v1/providers":                   adminOnly,
		"PATCH /v1/providers/:id":              adminOnly,
		"POST /v1/providers/:id/calendar-feed": adminOnly,
		"GET " + feedRoute:                     publicRoute, // the token is the credential
		"GET /v1/locations":                    publicRoute,
		"GET /v1/locations/:id":                publicRoute,
		"POST /v1/locations":                   adminOnly,
		"PATCH /v1/locations/:id":              adminOnly,
		"GET /v1/consultation-types":           publicRoute,
		"GET /v1/consultation-types/:id":       publicRoute,
		"POST /v1/consultation-types":          adminOnly,
		"PATCH /v1/consultation-types/:id":     adminOnly,

		"DELETE /v1/providers/:id/calendar-feed": adminOnly,

		"GET /v1/schedules":               frontDesk,
		"POST /v1/schedules":              frontDesk,
		"GET /v1/schedules/:id":           frontDesk,
		"PATCH /v1/schedules/:id":         frontDesk,
		"DELETE /v1/schedules/:id":        frontDesk,
		"POST /v1/schedules/:id/generate": frontDesk,

		"GET /v1/slots":        anyStaff,
		"POST /v1/slots":       frontDesk,
		"GET /v1/slots/:id":    anyStaff,
		"PATCH /v1/slots/:id":  frontDesk,
		"DELETE /v1/slots/:id": frontDesk,

		// The waitlist: the X-Waitlist-Token is the patient's credential;
		// reception and admins may send their bearer token instead.
		"GET /v1/waitlist":                     frontDesk,
		"POST /v1/waitlist":                    publicRoute,
		"GET /v1/waitlist/:reference":          publicRoute,
		"DELETE /v1/waitlist/:reference":       publicRoute,
		"POST /v1/waitlist/:reference/accept":  publicRoute,
		"POST /v1/waitlist/:reference/decline": publicRoute,
		"POST /v1/waitlist/:reference/offer":   frontDesk,

		"GET /v1/availability":                             publicRoute,
		"GET /v1/availability/next":                        publicRoute,
		"POST /v1/slot-holds":                              publicRoute,
		"DELETE /v1/slot-holds/:id":                        publicRoute, // the X-Hold-Token is the credential
		"GET /v1/intake-form":                              publicRoute,
		"GET /v1/booking-policy":                           publicRoute,
		"POST /v1/booking-requests":                        publicRoute,
		"GET /v1/booking-requests/:reference":              publicRoute,
		"GET /v1/booking-requests/:reference/calendar.ics": publicRoute,
		"POST /v1/booking-requests/:reference/cancel":      publicRoute,
		"POST /v1/booking-requests/:reference/reschedule":  publicRoute,
		"GET /v1/bookings":                                 anyStaff,
		"POST /v1/bookings":                                frontDesk,
		"GET /v1/bookings/:id":                             anyStaff,
		"PATCH /v1/bookings/:id":                           anyStaff,
		"POST /v1/bookings/:id/confirm":                    frontDesk,
		"POST /v1/bookings/:id/decline":                    frontDesk,
		"POST /v1/bookings/:id/cancel":                     frontDesk,
		"POST /v1/bookings/:id/reschedule":                 frontDesk,
		"POST /v1/bookings/:id/check-in":                   anyStaff,
		"POST /v1/bookings/:id/complete":                   anyStaff,
		"POST /v1/bookings/:id/no-show":                    anyStaff,
		"POST /v1/bookings/:id/revert":                     anyStaff,
		"GET /v1/bookings/:id/events":                      anyStaff,
		"GET /v1/booking-events":                           anyStaff,
		"GET /v1/booking-events/stream":                    anyStaff,

		"GET /v1/webhook-endpoints":                    adminOnly,
		"POST /v1/webhook-endpoints":                   adminOnly,
		"GET /v1/webhook-endpoints/:id":                adminOnly,
		"PATCH /v1/webhook-endpoints/:id":              adminOnly,
		"DELETE /v1/webhook-endpoints/:id":             adminOnly,
		"POST /v1/webhook-endpoints/:id/rotate-secret": adminOnly,
		"GET /v1/webhook-endpoints/:id/deliveries":     adminOnly,
		"POST /v1/webhook-deliveries/:id/redeliver":    adminOnly,

		"GET /v1/patients":            anyStaff,
		"GET /v1/patients/:id":        anyStaff,
		"PATCH /v1/patients/:id":      frontDesk,
		"POST /v1/patients/:id/merge": frontDesk,

		"POST /v1/patients/:id/decline-pending": frontDesk,
	}
)

// routes builds the Gin engine: middleware in the order each needs to see
// the request, then the generated routes.
func (s *Server) routes(m *Metrics) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(s.opts.TrustedProxies); err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	corsMW, err := corsMiddleware(s.opts.CORSAllowedOrigins, newRefusedOrigins(s.opts.CORSAllowedOrigins, s.calendar.PublicBaseURL, s.log, s.now))
	if err != nil {
		return nil, err
	}
	r.Use(
		requestIDMiddleware,
		s.accessLog, // outside recovery, so a recovered panic is logged as the 500 it became
		m.middleware,
		s.recovery,
		securityHeaders,
		corsMW,
		s.bodyLimit(s.opts.BodyLimit),
		s.queryText,
		s.authorize,
		s.checkQueryNames,
		s.feedToken,
		s.checkRequest,
	)
	r.NoRoute(func(c *gin.Context) {
		s.failf(c, http.StatusNotFound, "not_found", "no route %s %s", c.Request.Method, c.Request.URL.Path)
	})
	r.NoMethod(func(c *gin.Context) {
		s.failf(c, http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed here", c.Request.Method)
	})
	api.RegisterHandlersWithOptions(r, s, api.GinServerOptions{
		ErrorHandler: func(c *gin.Context, err error, status int) {
			// The generated wrappers call this for path, query and header
			// parameters that do not parse.
			s.fail(c, &httpError{status: http.StatusBadRequest, code: "invalid_parameter", detail: paramMessage(err)})
		},
	})
	return r, nil
}

// paramMessage keeps the generated binder's explanation (it names the
// parameter) but not the Go error chain behind it.
func paramMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i > 0 && strings.Contains(msg[:i], "parameter") {
		return msg[:i]
	}
	return msg
}

// authorize enforces accessControl: public routes pass; every other route
// needs a valid bearer access token (401) of an allowed role (403).
func (s *Server) authorize(c *gin.Context) {
	route := c.FullPath()
	if route == "" {
		c.Next() // NoRoute / NoMethod answer next
		return
	}
	roles, known := accessControl[c.Request.Method+" "+route]
	if known && roles == nil {
		// Public routes serve everyone; a staff token, when sent and
		// valid, lets a handler show staff more (inactive catalogue items).
		if token, ok := bearerToken(c.GetHeader("Authorization")); ok {
			if p, err := s.auth.Authenticate(c.Request.Context(), token); err == nil {
				c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), p))
			}
		}
		c.Next()
		return
	}
	p, ok := s.authenticate(c, auth.ErrUnauthenticated)
	if !ok {
		return
	}
	if !known || !hasRole(roles, p.Role) {
		s.fail(c, auth.ErrForbidden)
		return
	}
	c.Request = c.Request.WithContext(auth.WithPrincipal(c.Request.Context(), p))
	c.Next()
}

// authenticate returns the staff member the request's bearer token names,
// or answers 401 with the RFC 6750 challenge: missing when there is no
// token, the token's own error when it is invalid.
func (s *Server) authenticate(c *gin.Context, missing error) (auth.Principal, bool) {
	token, ok := bearerToken(c.GetHeader("Authorization"))
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="clinic"`)
		s.fail(c, missing)
		return auth.Principal{}, false
	}
	p, err := s.auth.Authenticate(c.Request.Context(), token)
	if err != nil {
		challenge := `Bearer realm="clinic", error="invalid_token"`
		// RFC 6750 §3: the reason, when there is one to give (an expired
		// token), so a client refreshes instead of logging in again.
		if ae, ok := errors.AsType[*auth.Error](err); ok && ae.Reason != "" {
			challenge += `, error_description="` + ae.Reason + `"`
		}
		c.Header("WWW-Authenticate", challenge)
		s.fail(c, err)
		return auth.Principal{}, false
	}
	return p, true
}

// staffOption lets the staff-only option of a public route, named by what,
// through for roles: the caller authorize found, else 401 as on a staff
// route (so a console refreshes an expired token and asks again), and 403
// for another role. A public route ignores a bad token; the option cannot.
func (s *Server) staffOption(c *gin.Context, what string, roles []auth.Role) bool {
	p, ok := auth.PrincipalFrom(c.Request.Context())
	if !ok {
		missing := &auth.Error{Code: auth.CodeUnauthenticated, Message: what + " needs a bearer token of the " + roleNames(roles) + " role"}
		if p, ok = s.authenticate(c, missing); !ok {
			return false
		}
	}
	if !hasRole(roles, p.Role) {
		s.fail(c, &auth.Error{Code: auth.CodeForbidden, Message: what + " needs the " + roleNames(roles) + " role"})
		return false
	}
	return true
}

// roleNames is roles in prose: "reception or admin".
func roleNames(roles []auth.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func hasRole(roles []auth.Role, r auth.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// principal returns the caller that authorize let through. Handlers of staff
// routes only run after authorize, so a missing principal is a wiring bug;
// it answers 401 rather than acting without one.
func (s *Server) principal(c *gin.Context) (auth.Principal, bool) {
	p, ok := auth.PrincipalFrom(c.Request.Context())
	if !ok {
		s.fail(c, auth.ErrUnauthenticated)
	}
	return p, ok
}
