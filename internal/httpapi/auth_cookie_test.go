package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/auth"
)

// refreshCookies returns the __Secure-refresh cookies an answer sets, by
// path.
func refreshCookies(t *testing.T, r resp) map[string]*http.Cookie {
	t.Helper()
	out := map[string]*http.Cookie{}
	for _, line := range r.Header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if ck.Name == "__Secure-refresh" {
			out[ck.Path] = ck
		}
	}
	return out
}

// TestRefreshCookieSession: a browser's login puts the refresh token in an
// HttpOnly, Secure, SameSite=Strict cookie scoped to refresh and logout;
// refresh by the cookie rotates it; logout clears it and ends the session.
func TestRefreshCookieSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		st, _ := e.staff(auth.RoleReception)
		login := e.do("POST", "/v1/auth/login", map[string]any{"email": st.Email, "password": "correct horse battery", "refresh_in_cookie": true})
		if login.Status != http.StatusOK {
			t.Fatalf("login: got %d %s", login.Status, login.Body)
		}
		if strings.Contains(string(login.Body), "refresh_token") {
			t.Errorf("cookie login: the body has the refresh token: %s", login.Body)
		}
		cookies := refreshCookies(t, login)
		for _, path := range []string{"/v1/auth/refresh", "/v1/auth/logout"} {
			ck := cookies[path]
			if ck == nil || ck.Value == "" || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.MaxAge <= 0 {
				t.Fatalf("cookie for %s: got %+v, want HttpOnly, Secure, SameSite=Strict, Max-Age > 0", path, ck)
			}
		}
		if len(cookies) != 2 {
			t.Errorf("cookies: got %d paths, want 2", len(cookies))
		}
		first := cookies["/v1/auth/refresh"].Value
		sameSite := []string{"Cookie: __Secure-refresh=" + first, "X-Requested-With: fetch", "Sec-Fetch-Site: same-origin", "Origin: " + e.URL}

		// Cross-site attempts are refused and do not spend the token.
		for name, headers := range map[string][]string{
			"cross-site fetch":     {sameSite[0], sameSite[1], "Sec-Fetch-Site: cross-site"},
			"same-site subdomain":  {sameSite[0], sameSite[1], "Sec-Fetch-Site: same-site"},
			"another origin":       {sameSite[0], sameSite[1], "Origin: https://evil.example"},
			"no X-Requested-With":  {sameSite[0], "Sec-Fetch-Site: same-origin"},
			"logout, another site": {sameSite[0], sameSite[1], "Origin: https://evil.example"},
		} {
			path := "/v1/auth/refresh"
			if strings.HasPrefix(name, "logout") {
				path = "/v1/auth/logout"
			}
			if r := e.do("POST", path, nil, headers...); r.Status != http.StatusForbidden || r.code() != "forbidden" {
				t.Errorf("%s: got %d %s, want 403 forbidden", name, r.Status, r.Body)
			}
		}

		r := e.do("POST", "/v1/auth/refresh", nil, sameSite...)
		if r.Status != http.StatusOK {
			t.Fatalf("refresh by cookie: got %d %s", r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "refresh_token") {
			t.Errorf("cookie refresh: the body has the refresh token: %s", r.Body)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		r.decode(t, &tok)
		if me := e.do("GET", "/v1/auth/me", nil, "Authorization: Bearer "+tok.AccessToken); me.Status != http.StatusOK {
			t.Errorf("me with the refreshed access token: got %d", me.Status)
		}
		second := refreshCookies(t, r)["/v1/auth/refresh"]
		if second == nil || second.Value == "" || second.Value == first {
			t.Fatalf("refresh did not rotate the cookie: %+v", second)
		}
		if got := refreshCookies(t, r)["/v1/auth/logout"]; got == nil || got.Value != second.Value {
			t.Errorf("logout cookie: got %+v, want the new token", got)
		}

		// Logout by the cookie clears it; the session is over.
		withSecond := []string{"Cookie: __Secure-refresh=" + second.Value, sameSite[1], sameSite[2], sameSite[3]}
		out := e.do("POST", "/v1/auth/logout", nil, withSecond...)
		if out.Status != http.StatusNoContent {
			t.Fatalf("logout by cookie: got %d %s", out.Status, out.Body)
		}
		for path, ck := range refreshCookies(t, out) {
			if ck.MaxAge >= 0 || ck.Value != "" {
				t.Errorf("logout cookie %s: got %+v, want cleared (Max-Age=0)", path, ck)
			}
		}
		if len(refreshCookies(t, out)) != 2 {
			t.Errorf("logout cleared %d cookies, want 2", len(refreshCookies(t, out)))
		}
		if r := e.do("POST", "/v1/auth/refresh", nil, withSecond...); r.Status != http.StatusUnauthorized {
			t.Errorf("refresh after logout: got %d %s, want 401", r.Status, r.Body)
		}
	})
}

// TestRefreshBodyClientsUnchanged: without refresh_in_cookie the tokens
// travel in JSON as before, and no cookie is set.
func TestRefreshBodyClientsUnchanged(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		st, _ := e.staff(auth.RoleAdmin)
		login := e.do("POST", "/v1/auth/login", map[string]any{"email": st.Email, "password": "correct horse battery"})
		var tok struct {
			RefreshToken string `json:"refresh_token"`
		}
		login.decode(t, &tok)
		if tok.RefreshToken == "" || len(login.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("login: refresh_token %q, Set-Cookie %v", tok.RefreshToken, login.Header.Values("Set-Cookie"))
		}
		r := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tok.RefreshToken})
		var next struct {
			RefreshToken string `json:"refresh_token"`
		}
		r.decode(t, &next)
		if r.Status != http.StatusOK || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("refresh: got %d refresh_token %q Set-Cookie %v", r.Status, next.RefreshToken, r.Header.Values("Set-Cookie"))
		}
		if r := e.do("POST", "/v1/auth/refresh", map[string]string{}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"refresh_token"`) {
			t.Errorf("no token: got %d %s, want 422 naming refresh_token", r.Status, r.Body)
		}
		if r := e.do("POST", "/v1/auth/logout", map[string]string{"refresh_token": next.RefreshToken}); r.Status != http.StatusNoContent || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("logout: got %d Set-Cookie %v", r.Status, r.Header.Values("Set-Cookie"))
		}
		if r := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": next.RefreshToken}); r.Status != http.StatusUnauthorized {
			t.Errorf("refresh after logout: got %d, want 401", r.Status)
		}
	})
}

// A browser that is not signed in (no cookie) asking for its session is
// told so with a 401, which the desk answers with its sign-in form (and
// its logout is done already: 204); a JSON
// client that sends neither a token nor the browser's header is still told
// which field it left out.
func TestRefreshWithoutCookie(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name    string
			path    string
			headers []string
			want    int
		}{
			{"browser refresh, no cookie", "/v1/auth/refresh", []string{"X-Requested-With: fetch", "Sec-Fetch-Site: same-origin", "Origin: " + e.URL}, http.StatusUnauthorized},
			{"browser logout, no cookie", "/v1/auth/logout", []string{"X-Requested-With: fetch", "Sec-Fetch-Site: same-origin", "Origin: " + e.URL}, http.StatusNoContent},
			{"JSON client, no token", "/v1/auth/refresh", nil, http.StatusUnprocessableEntity},
		} {
			r := e.do("POST", tc.path, nil, tc.headers...)
			if r.Status != tc.want {
				t.Errorf("%s: got %d %s, want %d", tc.name, r.Status, r.Body, tc.want)
			}
		}
	})
}
