package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

const testSecret = "test-secret-test-secret-test-secret!"

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
	Staff        struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Role  string `json:"role"`
	} `json:"staff"`
}

func (e *env) login(email, password string) (resp, tokens) {
	e.t.Helper()
	r := e.do("POST", "/v1/auth/login", map[string]string{"email": email, "password": password})
	var tk tokens
	if r.Status == http.StatusOK {
		r.decode(e.t, &tk)
	}
	return r, tk
}

func bearer(tok string) string { return "Authorization: Bearer " + tok }

func (e *env) newAccount(role auth.Role, email, password string) auth.Staff {
	e.t.Helper()
	st, err := e.Auth.CreateStaff(context.Background(), nil, auth.NewStaff{Email: email, Name: "Test " + string(role), Role: string(role), Password: password}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func TestLoginAndMe(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.newAccount(auth.RoleReception, "Rita@Clinic.example", "a long password 1")
		r, tk := e.login("rita@clinic.EXAMPLE", "a long password 1")
		if r.Status != http.StatusOK {
			t.Fatalf("login: got %d %s, want 200", r.Status, r.Body)
		}
		if tk.TokenType != "Bearer" || tk.ExpiresIn != 900 || tk.RefreshToken == "" || tk.Staff.Role != "reception" {
			t.Errorf("token response: got %+v", tk)
		}
		me := e.do("GET", "/v1/auth/me", nil, bearer(tk.AccessToken))
		if me.Status != http.StatusOK || !strings.Contains(string(me.Body), `"Rita@Clinic.example"`) {
			t.Errorf("me: got %d %s", me.Status, me.Body)
		}
		wrongPw, _ := e.login("rita@clinic.example", "not the password")
		unknown, _ := e.login("nobody@clinic.example", "not the password")
		if wrongPw.Status != 401 || unknown.Status != 401 || string(wrongPw.Body) != string(unknown.Body) {
			t.Errorf("wrong password %d %s and unknown email %d %s must answer alike", wrongPw.Status, wrongPw.Body, unknown.Status, unknown.Body)
		}
	})
}

func TestForgedAndStaleTokensAreRefused(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	st, _ := e.staff(auth.RoleAdmin)
	now := time.Now()
	sign := func(method jwt.SigningMethod, key any, mutate func(*jwt.MapClaims)) string {
		c := jwt.MapClaims{
			"iss": "clinic-booking", "aud": []string{"clinic-staff"}, "sub": st.ID.String(),
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(), "pwd": st.PasswordChangedAt.UnixMicro(),
		}
		mutate(&c)
		s, err := jwt.NewWithClaims(method, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	key := []byte(testSecret)
	valid := sign(jwt.SigningMethodHS256, key, func(*jwt.MapClaims) {})
	if r := e.do("GET", "/v1/auth/me", nil, bearer(valid)); r.Status != 200 {
		t.Fatalf("control token: got %d %s, want 200", r.Status, r.Body)
	}
	expired := func(c *jwt.MapClaims) { (*c)["exp"] = now.Add(-time.Minute).Unix() }
	tests := []struct {
		name    string
		token   string
		expired bool // the answer says the token expired; otherwise only that it is not valid
	}{
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, func(*jwt.MapClaims) {}), false},
		{"wrong key", sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-123"), func(*jwt.MapClaims) {}), false},
		{"other hmac alg", sign(jwt.SigningMethodHS512, key, func(*jwt.MapClaims) {}), false},
		{"expired", sign(jwt.SigningMethodHS256, key, expired), true},
		{"expired, wrong key", sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-123"), expired), false},
		{"expired, wrong issuer", sign(jwt.SigningMethodHS256, key, func(c *jwt.MapClaims) { expired(c); (*c)["iss"] = "evil" }), false},
		{"no expiry", sign(jwt.SigningMethodHS256, key, func(c *jwt.MapClaims) { delete(*c, "exp") }), false},
		{"wrong audience", sign(jwt.SigningMethodHS256, key, func(c *jwt.MapClaims) { (*c)["aud"] = "someone-else" }), false},
		{"wrong issuer", sign(jwt.SigningMethodHS256, key, func(c *jwt.MapClaims) { (*c)["iss"] = "evil" }), false},
		{"issued in the future", sign(jwt.SigningMethodHS256, key, func(c *jwt.MapClaims) { (*c)["iat"] = now.Add(time.Hour).Unix() }), false},
		{"unknown subject", sign(jwt.SigningMethodHS256, key, func(c *jwt.MapClaims) { (*c)["sub"] = uuid.NewString() }), false},
		{"old password stamp", sign(jwt.SigningMethodHS256, key, func(c *jwt.MapClaims) { (*c)["pwd"] = 1 }), false},
		{"bad session", sign(jwt.SigningMethodHS256, key, func(c *jwt.MapClaims) { (*c)["sid"] = "not-a-uuid" }), false},
		{"garbage", "not.a.jwt", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/v1/auth/me", nil, bearer(tt.token))
			if r.Status != http.StatusUnauthorized || r.code() != "unauthenticated" {
				t.Errorf("got %d %s, want 401 unauthenticated", r.Status, r.code())
			}
			var p struct {
				Detail string `json:"detail"`
			}
			r.decode(t, &p)
			challenge := r.Header.Get("WWW-Authenticate")
			wantChallenge, wantDetail := `Bearer realm="clinic", error="invalid_token"`, "authentication required"
			if tt.expired {
				wantChallenge += `, error_description="token expired"`
				wantDetail = "token expired: get a new access token with your refresh token (POST /v1/auth/refresh)"
			}
			if challenge != wantChallenge || p.Detail != wantDetail {
				t.Errorf("got WWW-Authenticate %q, detail %q; want %q, %q", challenge, p.Detail, wantChallenge, wantDetail)
			}
		})
	}
	if r := e.do("GET", "/v1/auth/me", nil); r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: got %d with WWW-Authenticate %q, want 401 with a challenge", r.Status, r.Header.Get("WWW-Authenticate"))
	}
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.newAccount(auth.RoleClinician, "doc@clinic.example", "a long password 2")
		_, first := e.login("doc@clinic.example", "a long password 2")
		r := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": first.RefreshToken})
		if r.Status != 200 {
			t.Fatalf("refresh: got %d %s", r.Status, r.Body)
		}
		var second tokens
		r.decode(t, &second)
		if second.RefreshToken == first.RefreshToken {
			t.Fatal("refresh did not rotate the token")
		}
		// The spent token is presented again: the whole family is revoked.
		if r := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": first.RefreshToken}); r.Status != 401 {
			t.Errorf("reuse: got %d, want 401", r.Status)
		}
		if r := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": second.RefreshToken}); r.Status != 401 {
			t.Errorf("rotated token after reuse: got %d, want 401", r.Status)
		}
		admin := e.token(auth.RoleAdmin)
		a := e.do("GET", "/v1/audit-events?limit=200", nil, admin)
		if !strings.Contains(string(a.Body), `"refresh_token_reused"`) {
			t.Errorf("audit lacks refresh_token_reused: %s", a.Body)
		}
	})
}

func TestLogoutRevokesSession(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	e.newAccount(auth.RoleReception, "out@clinic.example", "a long password 3")
	_, tk := e.login("out@clinic.example", "a long password 3")
	_, other := e.login("out@clinic.example", "a long password 3") // the same account on another device
	// A refreshed session is the same session: logging out ends it too.
	r := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tk.RefreshToken})
	if r.Status != 200 {
		t.Fatalf("refresh: got %d %s", r.Status, r.Body)
	}
	var rotated tokens
	r.decode(t, &rotated)
	if r := e.do("POST", "/v1/auth/logout", map[string]string{"refresh_token": rotated.RefreshToken}); r.Status != 204 {
		t.Fatalf("logout: got %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": rotated.RefreshToken}); r.Status != 401 {
		t.Errorf("refresh after logout: got %d, want 401", r.Status)
	}
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"access token issued at login", tk.AccessToken, 401},
		{"access token issued at refresh", rotated.AccessToken, 401},
		{"access token of another session", other.AccessToken, 200},
	} {
		if r := e.do("GET", "/v1/auth/me", nil, bearer(tc.token)); r.Status != tc.want {
			t.Errorf("after logout, %s: got %d, want %d", tc.name, r.Status, tc.want)
		}
	}
	if r := e.do("POST", "/v1/auth/logout", map[string]string{"refresh_token": "unknown"}); r.Status != 204 {
		t.Errorf("logout with unknown token: got %d, want 204", r.Status)
	}
}

func TestDeactivationEndsSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		st := e.newAccount(auth.RoleReception, "leaver@clinic.example", "a long password 4")
		_, tk := e.login("leaver@clinic.example", "a long password 4")
		r := e.do("PATCH", "/v1/staff/"+st.ID.String(), map[string]any{"active": false}, admin)
		if r.Status != 200 {
			t.Fatalf("deactivate: got %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", "/v1/auth/me", nil, bearer(tk.AccessToken)); r.Status != 401 {
			t.Errorf("access token of deactivated account: got %d, want 401", r.Status)
		}
		if r := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tk.RefreshToken}); r.Status != 401 {
			t.Errorf("refresh token of deactivated account: got %d, want 401", r.Status)
		}
		if r, _ := e.login("leaver@clinic.example", "a long password 4"); r.Status != 401 {
			t.Errorf("login of deactivated account: got %d, want 401", r.Status)
		}
	})
}

func TestPasswordChangeEndsSessions(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	e.newAccount(auth.RoleReception, "pw@clinic.example", "a long password 5")
	_, tk := e.login("pw@clinic.example", "a long password 5")
	h := bearer(tk.AccessToken)
	tests := []struct {
		name       string
		body       map[string]string
		wantStatus int
	}{
		{"too short", map[string]string{"current_password": "a long password 5", "new_password": "short"}, 422},
		{"wrong current", map[string]string{"current_password": "wrong password!!", "new_password": "a new long password"}, 401},
	}
	for _, tt := range tests {
		if r := e.do("POST", "/v1/auth/password", tt.body, h); r.Status != tt.wantStatus {
			t.Errorf("%s: got %d %s, want %d", tt.name, r.Status, r.Body, tt.wantStatus)
		}
	}
	if r := e.do("POST", "/v1/auth/password", map[string]string{"current_password": "a long password 5", "new_password": "a new long password"}, h); r.Status != 204 {
		t.Fatalf("change: got %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/v1/auth/me", nil, h); r.Status != 401 {
		t.Errorf("old access token: got %d, want 401", r.Status)
	}
	if r := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tk.RefreshToken}); r.Status != 401 {
		t.Errorf("old refresh token: got %d, want 401", r.Status)
	}
	if r, _ := e.login("pw@clinic.example", "a new long password"); r.Status != 200 {
		t.Errorf("login with new password: got %d", r.Status)
	}
}

func TestLoginThrottling(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(_ *httpapi.Options, a *auth.Options) { a.LoginRateLimit = 3 })
	e.newAccount(auth.RoleReception, "slow@clinic.example", "a long password 6")
	for i := range 3 {
		if r, _ := e.login("slow@clinic.example", "wrong password "+strconv.Itoa(i)); r.Status != 401 {
			t.Fatalf("failure %d: got %d, want 401", i, r.Status)
		}
	}
	r, _ := e.login("slow@clinic.example", "a long password 6")
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("right password during lock: got %d, want 429", r.Status)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After: got %q, want 1..60 seconds", r.Header.Get("Retry-After"))
	}
}

func TestStaffAdministration(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin, adminH := e.staff(auth.RoleAdmin)
		create := func(email string) resp {
			return e.do("POST", "/v1/staff", map[string]string{"email": email, "name": "New Person", "role": "reception", "password": "a long password 7"}, adminH)
		}
		r := create("New.Person@Clinic.example")
		if r.Status != 201 {
			t.Fatalf("create: got %d %s", r.Status, r.Body)
		}
		var created struct {
			ID string `json:"id"`
		}
		r.decode(t, &created)
		if r := create("new.person@clinic.EXAMPLE"); r.Status != 409 || r.code() != "duplicate" {
			t.Errorf("duplicate email in other case: got %d %q, want 409 duplicate", r.Status, r.code())
		}
		bad := e.do("POST", "/v1/staff", map[string]string{"email": "nope", "name": "", "role": "boss", "password": "short"}, adminH)
		for _, f := range []string{`"email"`, `"name"`, `"role"`, `"password"`} {
			if bad.Status != 422 || !strings.Contains(string(bad.Body), `"field":`+f) {
				t.Errorf("invalid staff: got %d %s, want 422 naming %s", bad.Status, bad.Body, f)
			}
		}
		if r := e.do("PATCH", "/v1/staff/"+created.ID, map[string]any{"role": "clinician"}, adminH); r.Status != 200 || !strings.Contains(string(r.Body), `"clinician"`) {
			t.Errorf("role change: got %d %s", r.Status, r.Body)
		}
		if r := e.do("PATCH", "/v1/staff/"+admin.ID.String(), map[string]any{"active": false}, adminH); r.Status != 409 {
			t.Errorf("self-deactivation: got %d, want 409", r.Status)
		}
		if r := e.do("GET", "/v1/staff/"+uuid.NewString(), nil, adminH); r.Status != 404 {
			t.Errorf("unknown staff: got %d, want 404", r.Status)
		}
		list := e.do("GET", "/v1/staff?limit=1", nil, adminH)
		var page struct {
			Items      []map[string]any `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		}
		list.decode(t, &page)
		if len(page.Items) != 1 || page.NextCursor == nil {
			t.Fatalf("first page: got %d items, cursor %v", len(page.Items), page.NextCursor)
		}
		next := e.do("GET", "/v1/staff?limit=1&cursor="+*page.NextCursor, nil, adminH)
		if next.Status != 200 || strings.Contains(string(next.Body), page.Items[0]["id"].(string)) {
			t.Errorf("second page repeats the first: %s", next.Body)
		}
		if strings.Contains(string(list.Body), "password") {
			t.Errorf("staff list exposes password data: %s", list.Body)
		}
		audit := e.do("GET", "/v1/audit-events", nil, adminH)
		for _, want := range []string{"staff_created", "role_changed", "login_succeeded"} {
			if !strings.Contains(string(audit.Body), `"`+want+`"`) {
				t.Errorf("audit lacks %s", want)
			}
		}
		if strings.Contains(string(audit.Body), "a long password") {
			t.Error("audit contains a password")
		}
	})
}

func TestBootstrapAdminIsIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		created, err := e.Auth.Bootstrap(ctx, "boss@clinic.example", "first long password")
		if err != nil || !created {
			t.Fatalf("first bootstrap: created %v, err %v", created, err)
		}
		// A restart with other settings neither duplicates nor resets it.
		created, err = e.Auth.Bootstrap(ctx, "boss@clinic.example", "second long password")
		if err != nil || created {
			t.Fatalf("second bootstrap: created %v, err %v", created, err)
		}
		if r, _ := e.login("boss@clinic.example", "first long password"); r.Status != 200 {
			t.Errorf("login with the first password: got %d", r.Status)
		}
		n, err := e.Store.CountStaff(ctx)
		if err != nil || n != 1 {
			t.Errorf("staff count: got %d (%v), want 1", n, err)
		}
	})
}

// The role matrix: every rule of the access table is exercised with no
// token and with each role. Allowed roles must get past authorization (any
// status but 401/403); others get 403; anonymous callers of staff routes 401.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	roles := []auth.Role{auth.RoleAdmin, auth.RoleReception, auth.RoleClinician}
	headers := map[auth.Role]string{}
	for _, r := range roles {
		headers[r] = e.token(r)
	}
	// A stream that is let through never ends; a bad resume point makes it
	// answer at once, after authorization.
	extra := map[string]string{"GET /v1/booking-events/stream": "Last-Event-ID: not-an-id"}
	for key, allowed := range httpapi.AccessControl() {
		method, path, _ := strings.Cut(key, " ")
		path = strings.NewReplacer(":id", uuid.NewString(), ":reference", "AAAA-AAAA").Replace(path)
		t.Run(key, func(t *testing.T) {
			anon := e.do(method, path, nil, extra[key])
			if allowed == nil {
				if anon.Status == 401 || anon.Status == 403 {
					t.Errorf("public route: anonymous got %d", anon.Status)
				}
				return
			}
			if anon.Status != 401 {
				t.Errorf("anonymous: got %d, want 401", anon.Status)
			}
			for _, role := range roles {
				r := e.do(method, path, nil, headers[role], extra[key])
				ok := slices.Contains(allowed, role)
				switch {
				case ok && (r.Status == 401 || r.Status == 403):
					t.Errorf("%s: got %d, want past authorization", role, r.Status)
				case !ok && r.Status != 403:
					t.Errorf("%s: got %d, want 403", role, r.Status)
				}
			}
		})
	}
}

// Two refreshes racing with one token: one wins, the other is reuse, so the
// whole family dies, including the token the winner received, however the
// two interleave.
func TestConcurrentRefreshReuseRevokesWinnersToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.newAccount(auth.RoleReception, "race@clinic.example", "a long password 8")
		for i := range 15 {
			_, tk := e.login("race@clinic.example", "a long password 8")
			results := make(chan resp, 2)
			for range 2 {
				go func() {
					results <- e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tk.RefreshToken})
				}()
			}
			both := []resp{<-results, <-results}
			for _, r := range both {
				if r.Status != http.StatusOK {
					continue
				}
				var won tokens
				r.decode(t, &won)
				if again := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": won.RefreshToken}); again.Status != 401 {
					t.Errorf("round %d: the winner's token after reuse: got %d, want 401", i, again.Status)
				}
			}
		}
	})
}

func TestConcurrentWrongPasswordsAreThrottled(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(_ *httpapi.Options, a *auth.Options) { a.LoginRateLimit = 3 })
	e.newAccount(auth.RoleReception, "burst@clinic.example", "a long password 9")
	results := make(chan int, 40)
	for i := range 40 {
		go func() {
			r, _ := e.login("burst@clinic.example", "wrong password "+strconv.Itoa(i))
			results <- r.Status
		}()
	}
	counts := map[int]int{}
	for range 40 {
		counts[<-results]++
	}
	if counts[401] != 3 || counts[429] != 37 {
		t.Errorf("statuses: got %v, want 3 × 401 and 37 × 429", counts)
	}
}
