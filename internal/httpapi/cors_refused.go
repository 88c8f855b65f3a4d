package httpapi

import (
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Refused origins are logged at most once per refusedOriginEvery each;
// at most refusedOriginsKept are remembered at a time, so a flood of
// made-up Origin headers can neither grow memory nor the log without
// bound, and refusedOriginMaxLen bytes of an origin are logged.
const (
	refusedOriginEvery  = time.Minute
	refusedOriginsKept  = 1000
	refusedOriginMaxLen = 200
)

// refusedOrigins logs browser requests from origins CORS_ALLOWED_ORIGINS
// does not list. The browser shows the website nothing but a failed
// request (the widget says it cannot connect), so the server's log is
// where a mis-typed origin can be found.
type refusedOrigins struct {
	allowed map[string]bool
	log     *slog.Logger
	now     func() time.Time

	mu     sync.Mutex
	logged map[string]time.Time // origin -> when it was last logged
}

// newRefusedOrigins logs requests from origins other than allowed and
// the server's own: the request's host, and publicBaseURL's origin (the
// pages it hosts, behind a proxy that gives the request another Host).
func newRefusedOrigins(allowed []string, publicBaseURL string, log *slog.Logger, now func() time.Time) *refusedOrigins {
	r := &refusedOrigins{allowed: make(map[string]bool, len(allowed)+1), log: log, now: now, logged: map[string]time.Time{}}
	for _, o := range allowed {
		r.allowed[o] = true
	}
	if u, err := url.Parse(publicBaseURL); err == nil && u.Host != "" {
		r.allowed[u.Scheme+"://"+u.Host] = true
	}
	return r
}

// check logs c's request when it is a cross-origin request (by the CORS
// package's rule: an Origin other than the request's own host) from an
// origin not allowed.
func (r *refusedOrigins) check(c *gin.Context) {
	origin := c.Request.Header.Get("Origin")
	host := c.Request.Host
	if origin == "" || r.allowed[origin] || origin == "http://"+host || origin == "https://"+host {
		return
	}
	if len(origin) > refusedOriginMaxLen {
		origin = origin[:refusedOriginMaxLen]
	}
	if !r.due(origin) {
		return
	}
	r.log.WarnContext(c.Request.Context(), "request from an origin not in CORS_ALLOWED_ORIGINS refused: browsers on that website cannot call the API; add the origin to CORS_ALLOWED_ORIGINS if it is the clinic's",
		"origin", origin, "method", c.Request.Method, "route", routeOf(c), "request_id", requestID(c))
}

// due reports whether origin is to be logged now, and remembers that it
// was.
func (r *refusedOrigins) due(origin string) bool {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.logged[origin]; ok && now.Sub(last) < refusedOriginEvery {
		return false
	}
	if _, ok := r.logged[origin]; !ok && len(r.logged) >= refusedOriginsKept {
		for o, last := range r.logged {
			if now.Sub(last) >= refusedOriginEvery {
				delete(r.logged, o)
			}
		}
		if len(r.logged) >= refusedOriginsKept {
			return false // still full: every one of them logged within the minute
		}
	}
	r.logged[origin] = now
	return true
}
