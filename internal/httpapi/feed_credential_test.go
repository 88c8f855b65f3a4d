package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/storetest"
)

// ends waits for the stream to end, failing t when it is still open after
// wait, and returns the events (not comments) it sent meanwhile and its
// last comment.
func (s *sseStream) ends(t *testing.T, wait time.Duration) (events []sseEvent, lastComment string) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return events, lastComment
			}
			if ev.Event != "" {
				events = append(events, ev)
			} else if ev.Comment != "" {
				lastComment = ev.Comment
			}
		case <-deadline:
			t.Fatalf("the stream is still open %s later", wait)
		}
	}
}

// tokenExpiry reads the exp claim of an access token.
func tokenExpiry(t *testing.T, access string) time.Time {
	t.Helper()
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		t.Fatalf("access token %q is not a JWT", access)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return time.Unix(c.Exp, 0)
}

// shortTokens makes access tokens last 4 seconds (JWT expiry is counted
// in whole seconds, so 3 to 4).
func shortTokens(_ *httpapi.Options, a *auth.Options) { a.AccessTokenTTL = 4 * time.Second }

// An open live feed carries patient data, so it ends with the credential
// that opened it: within 5 s of the token's expiry, the account's
// deactivation, a password change or a logout, with no event sent after
// it. A booking made after the cause reaches the client when it reconnects
// with a fresh token and Last-Event-ID: nothing is missed.
func TestFeedStreamEndsWithItsCredential(t *testing.T) {
	type account struct {
		staff  auth.Staff
		tokens tokens
		pw     string
	}
	causes := []struct {
		name string
		// end ends the credential and returns when it did.
		end func(t *testing.T, e *env, a account) time.Time
		// again is the credential the client comes back with.
		again func(t *testing.T, e *env, a account) string
	}{
		{
			name: "deactivated",
			end: func(t *testing.T, e *env, a account) time.Time {
				r := e.do("PATCH", "/v1/staff/"+a.staff.ID.String(), map[string]any{"active": false}, e.token(auth.RoleAdmin))
				if r.Status != http.StatusOK {
					t.Fatalf("deactivate: got %d %s", r.Status, r.Body)
				}
				return time.Now()
			},
			// The account is gone: a colleague's screen takes over.
			again: func(t *testing.T, e *env, _ account) string { return e.token(auth.RoleReception) },
		},
		{
			name: "password changed",
			end: func(t *testing.T, e *env, a account) time.Time {
				r := e.do("POST", "/v1/auth/password", map[string]string{"current_password": a.pw, "new_password": a.pw + " new"},
					bearer(a.tokens.AccessToken))
				if r.Status != http.StatusNoContent {
					t.Fatalf("change password: got %d %s", r.Status, r.Body)
				}
				return time.Now()
			},
			again: func(t *testing.T, e *env, a account) string {
				r, tk := e.login(a.staff.Email, a.pw+" new")
				if r.Status != http.StatusOK {
					t.Fatalf("login with the new password: got %d %s", r.Status, r.Body)
				}
				return bearer(tk.AccessToken)
			},
		},
		{
			name: "logged out",
			end: func(t *testing.T, e *env, a account) time.Time {
				r := e.do("POST", "/v1/auth/logout", map[string]string{"refresh_token": a.tokens.RefreshToken})
				if r.Status != http.StatusNoContent {
					t.Fatalf("logout: got %d %s", r.Status, r.Body)
				}
				return time.Now()
			},
			again: func(t *testing.T, e *env, a account) string {
				r, tk := e.login(a.staff.Email, a.pw)
				if r.Status != http.StatusOK {
					t.Fatalf("login again: got %d %s", r.Status, r.Body)
				}
				return bearer(tk.AccessToken)
			},
		},
		{
			name: "token expired",
			end: func(t *testing.T, e *env, a account) time.Time {
				exp := tokenExpiry(t, a.tokens.AccessToken)
				time.Sleep(time.Until(exp))
				return exp
			},
			again: func(t *testing.T, e *env, a account) string {
				r := e.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": a.tokens.RefreshToken})
				if r.Status != http.StatusOK {
					t.Fatalf("refresh: got %d %s", r.Status, r.Body)
				}
				var tk tokens
				r.decode(t, &tk)
				return bearer(tk.AccessToken)
			},
		},
	}
	for _, cause := range causes {
		t.Run(cause.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, e *env) {
				k := newClinic(t, e)
				// Idle, the stream notices by itself (its periodic recheck,
				// or its token's expiry); busy, a booking made right after
				// the cause is what wakes it, and it must not be sent.
				for _, busy := range []bool{false, true} {
					a := account{pw: "a long password for the desk"}
					email := fmt.Sprintf("desk%d@clinic.example", staffSeq.Add(1))
					a.staff = e.newAccount(auth.RoleReception, email, a.pw)
					var r resp
					if r, a.tokens = e.login(email, a.pw); r.Status != http.StatusOK {
						t.Fatalf("login: got %d %s", r.Status, r.Body)
					}
					s := openStream(t, e, bearer(a.tokens.AccessToken), "")
					before := k.request(t, k.slot(t, slotOpts{}))
					seen := s.next(t, 5*time.Second)
					if !strings.Contains(seen.Data, before.ID) {
						t.Fatalf("before the cause: got %+v, want the booking.created of %s", seen, before.ID)
					}

					at := cause.end(t, e, a)
					var after created
					if busy {
						after = k.request(t, k.slot(t, slotOpts{}))
					}
					sent, why := s.ends(t, time.Until(at.Add(5*time.Second)))
					t.Logf("busy=%v: ended %s after the cause: %q", busy, time.Since(at).Round(time.Millisecond), why)
					if len(sent) > 0 {
						t.Errorf("busy=%v: after the cause the stream sent %+v, want nothing", busy, sent)
					}
					wantWhy := "stream closed: credential no longer valid"
					if cause.name == "token expired" {
						wantWhy = "stream closed: token expired"
					}
					if why != wantWhy {
						t.Errorf("busy=%v: last comment: got %q, want %q", busy, why, wantWhy)
					}
					if !busy {
						after = k.request(t, k.slot(t, slotOpts{}))
					}

					again := openStream(t, e, cause.again(t, e, a), seen.ID)
					if ev := again.next(t, 5*time.Second); ev.Event != "booking.created" || !strings.Contains(ev.Data, after.ID) {
						t.Fatalf("busy=%v: reconnected with Last-Event-ID %s: got %+v, want the booking.created of %s", busy, seen.ID, ev, after.ID)
					}
					again.quiet(t, 300*time.Millisecond)
					again.close()
				}
			}, shortTokensIf(cause.name == "token expired"))
		})
	}
}

// shortTokensIf is shortTokens when on, else no change.
func shortTokensIf(on bool) envOption {
	if on {
		return shortTokens
	}
	return func(*httpapi.Options, *auth.Options) {}
}

// The check is made against the database, not an in-process signal: a
// logout through one instance ends a stream open on another.
func TestFeedStreamEndsWhenAnotherInstanceEndsTheSession(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			one, two := newEnv(t, url), newEnv(t, url)
			const pw = "a long password for the desk"
			email := fmt.Sprintf("desk%d@clinic.example", staffSeq.Add(1))
			one.newAccount(auth.RoleReception, email, pw)
			r, tk := one.login(email, pw)
			if r.Status != http.StatusOK {
				t.Fatalf("login: got %d %s", r.Status, r.Body)
			}
			s := openStream(t, two, bearer(tk.AccessToken), "")
			if r := one.do("POST", "/v1/auth/logout", map[string]string{"refresh_token": tk.RefreshToken}); r.Status != http.StatusNoContent {
				t.Fatalf("logout: got %d %s", r.Status, r.Body)
			}
			at := time.Now()
			if sent, _ := s.ends(t, 5*time.Second); len(sent) > 0 {
				t.Errorf("after the logout the stream sent %+v, want nothing", sent)
			}
			t.Logf("the other instance's stream ended %s after the logout", time.Since(at).Round(time.Millisecond))
		})
	}
}

// One staff member holds at most 5 streams on an instance (the documented
// default): the sixth is refused with 429 too_many_streams while the five go
// on; another member is not affected; a stream that ends frees its place.
func TestFeedStreamsPerStaffAreCapped(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	k := newClinic(t, e)
	tok := e.token(auth.RoleReception)
	var open []*sseStream
	for range 5 {
		open = append(open, openStream(t, e, tok, ""))
	}
	if got := streamStatus(t, e, tok); got != http.StatusTooManyRequests {
		t.Fatalf("sixth stream: got %d, want 429", got)
	}
	r := e.do("GET", "/v1/booking-events/stream", nil, tok) // read whole and checked against the spec
	if r.Status != http.StatusTooManyRequests || r.code() != "too_many_streams" {
		t.Fatalf("sixth stream: got %d %s, want 429 too_many_streams", r.Status, r.Body)
	}
	var p struct {
		Type   string `json:"type"`
		Detail string `json:"detail"`
	}
	r.decode(t, &p)
	if p.Type != "https://consult.clinic.example/problems/too-many-streams" || !strings.Contains(p.Detail, "5 live-feed streams") {
		t.Errorf("sixth stream: got type %q detail %q, want too-many-streams naming the cap of 5", p.Type, p.Detail)
	}
	c := k.request(t, k.slot(t, slotOpts{}))
	for i, s := range open {
		if ev := s.next(t, 5*time.Second); !strings.Contains(ev.Data, c.ID) {
			t.Errorf("stream %d after the refusal: got %+v, want the booking.created of %s", i, ev, c.ID)
		}
	}
	openStream(t, e, e.token(auth.RoleReception), "").close() // a colleague's screen opens

	open[0].close()
	deadline := time.Now().Add(5 * time.Second)
	for streamStatus(t, e, tok) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's place is still taken 5 s later")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// streamStatus opens a stream and returns the status it is answered with,
// closing it at once.
func streamStatus(t *testing.T, e *env, token string) int {
	t.Helper()
	req, err := http.NewRequest("GET", e.URL+"/v1/booking-events/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	k, v, _ := strings.Cut(token, ":")
	req.Header.Set(k, strings.TrimSpace(v))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
