package httpapi

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
)

// refreshCookie is the cookie of a browser session's refresh token. The
// __Secure- prefix makes browsers refuse it without Secure; __Host- would
// also forbid the Path that keeps it off every other route.
const refreshCookie = "__Secure-refresh"

// refreshCookiePaths are the only routes the browser sends the cookie to.
var refreshCookiePaths = []string{"/v1/auth/refresh", "/v1/auth/logout"}

// setRefreshCookie sets the refresh cookie to token for ttl on each of
// refreshCookiePaths, or clears it when token is "".
func setRefreshCookie(c *gin.Context, token string, ttl time.Duration) {
	maxAge := int(ttl.Seconds())
	if token == "" {
		maxAge = -1 // Max-Age=0: delete now
	}
	for _, p := range refreshCookiePaths {
		http.SetCookie(c.Writer, &http.Cookie{
			Name: refreshCookie, Value: token, Path: p, MaxAge: maxAge,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
		})
	}
}

// refreshCredential returns the refresh token of a refresh or logout: the
// body's, as JSON clients send it, or else the cookie's (fromCookie). The
// cookie is only taken from a same-origin request that carries
// X-Requested-With: SameSite=Strict keeps it off cross-site requests in
// today's browsers, and these checks refuse (403) what slips through (an
// older browser, a sibling subdomain). A browser's request without the
// cookie (X-Requested-With, no body token) gives an empty token with
// fromCookie: a browser that is not signed in. ok is false when an answer
// was sent.
func (s *Server) refreshCredential(c *gin.Context, cookie *string, requestedWith *api.RequestedWith) (token string, fromCookie, ok bool) {
	var in api.RefreshRequest
	if !s.decodeOptionalJSON(c, &in) {
		return "", false, false
	}
	if t := deref(in.RefreshToken); t != "" {
		return t, false, true
	}
	if deref(cookie) == "" {
		if deref(requestedWith) != "" {
			// A browser asking for its cookie session without the cookie is
			// not signed in, rather than a client that left out a field: the
			// caller answers (refresh: 401; logout: done already).
			return "", true, true
		}
		s.fail(c, booking.Invalid("refresh_token", booking.FieldRequired, "is required (or the "+refreshCookie+" cookie of a browser session)"))
		return "", false, false
	}
	if reason := crossSite(c.Request, deref(requestedWith)); reason != "" {
		s.failf(c, http.StatusForbidden, "forbidden", "the session cookie is refused: %s", reason)
		return "", false, false
	}
	return *cookie, true, true
}

// crossSite says why r may come from another site's page, or "" when it
// comes from the server's own: a custom header (which a cross-site page
// cannot send without a CORS preflight), Sec-Fetch-Site same-origin when
// the browser sends it, and an Origin naming this host when sent.
func crossSite(r *http.Request, requestedWith string) string {
	if requestedWith == "" {
		return "X-Requested-With is required with the cookie"
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return "Sec-Fetch-Site is " + site
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return "the request comes from another origin"
		}
	}
	return ""
}
