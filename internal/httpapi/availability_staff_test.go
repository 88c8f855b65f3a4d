package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
)

// staffWindowClinic is a clinic with a slot of each kind the staff window
// tells apart, all of one provider and type, at now.
type staffWindowClinic struct {
	k                                            *clinic
	now                                          time.Time
	ended, walkIn, soon, public, far             uuid.UUID // offered to staff from walkIn on
	blockedSoon, fullSoon, otherType             uuid.UUID // never offered here
	reception, admin, clinician, dayQ, nextQuery string
}

func newStaffWindowClinic(t *testing.T, e *env) *staffWindowClinic {
	t.Helper()
	k := newClinic(t, e)
	now := time.Now().UTC().Truncate(time.Second)
	w := &staffWindowClinic{k: k, now: now,
		reception: e.token(auth.RoleReception), admin: e.token(auth.RoleAdmin), clinician: e.token(auth.RoleClinician)}
	// 45-minute slots; a provider's may not overlap.
	w.ended = k.slot(t, slotOpts{start: now.Add(-60 * time.Minute)})
	w.walkIn = k.slot(t, slotOpts{start: now.Add(-10 * time.Minute)})
	w.soon = k.slot(t, slotOpts{start: now.Add(40 * time.Minute)})
	w.blockedSoon = k.slot(t, slotOpts{start: now.Add(90 * time.Minute), blocked: true})
	w.fullSoon = k.slot(t, slotOpts{start: now.Add(30 * time.Minute), provider: k.provider2})
	w.otherType = k.slot(t, slotOpts{start: now.Add(80 * time.Minute), provider: k.provider2, typeID: k.instant})
	w.public = k.slot(t, slotOpts{start: now.Add(3 * time.Hour)})
	w.far = k.slot(t, slotOpts{start: now.Add(testPolicy.MaxAdvance + 24*time.Hour)})
	k.staffBook(t, w.reception, requestBody(w.fullSoon))
	w.dayQ = clinicDays(now.Add(-24*time.Hour), now.Add(24*time.Hour)) + "&consultation_type_id=" + k.reviewed.String()
	w.nextQuery = url.Values{"consultation_type_id": {k.reviewed.String()}, "limit": {"10"}}.Encode()
	return w
}

// ids returns the slot ids of a 200 availability or next-availability
// answer, in order, failing the test on any other status.
func ids(t *testing.T, r resp, what string) []string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: got %d %s, want 200", what, r.Status, r.Body)
	}
	var out []string
	var next struct {
		Slots []struct {
			ID string `json:"id"`
		} `json:"slots"`
	}
	r.decode(t, &next)
	for _, sl := range next.Slots {
		out = append(out, sl.ID)
	}
	var a availabilityJSON
	r.decode(t, &a)
	for _, d := range a.Days {
		for _, sl := range d.Slots {
			out = append(out, sl.ID)
		}
	}
	return out
}

func strs(ids ...uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// The staff window offers the front desk what it may book besides the
// public's places: inside MIN_NOTICE, beyond MAX_ADVANCE and in a slot in
// progress (a walk-in), soonest first; never an ended, blocked or full
// slot. The public window is unchanged, and a place inside the notice
// books for staff.
func TestAvailabilityStaffWindow(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		w := newStaffWindowClinic(t, e)
		staffNext := strs(w.walkIn, w.soon, w.public, w.far)
		for _, tt := range []struct {
			name, path, authz, cache string
			want                     []string
		}{
			{"public next", "/v1/availability/next?" + w.nextQuery, "", "no-store", strs(w.public)},
			{"public next, window=public, a clinician's token", "/v1/availability/next?window=public&" + w.nextQuery, w.clinician, "no-store", strs(w.public)},
			{"staff next, reception", "/v1/availability/next?window=staff&" + w.nextQuery, w.reception, "private, no-store", staffNext},
			{"staff next, admin", "/v1/availability/next?window=staff&" + w.nextQuery, w.admin, "private, no-store", staffNext},
			{"public days", "/v1/availability?" + w.dayQ, "", "public, no-cache", strs(w.public)},
			{"staff days", "/v1/availability?window=staff&" + w.dayQ, w.reception, "private, no-store", strs(w.walkIn, w.soon, w.public)},
		} {
			r := e.do("GET", tt.path, nil, tt.authz)
			if got := ids(t, r, tt.name); !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
			if got := r.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("%s: Cache-Control %q, want %q", tt.name, got, tt.cache)
			}
		}
		farQ := clinicDays(w.now.Add(testPolicy.MaxAdvance), w.now.Add(testPolicy.MaxAdvance+48*time.Hour)) + "&consultation_type_id=" + w.k.reviewed.String()
		if got, want := ids(t, e.do("GET", "/v1/availability?window=staff&"+farQ, nil, w.reception), "staff days far"), strs(w.far); !slices.Equal(got, want) {
			t.Errorf("staff days beyond MAX_ADVANCE: got %v, want %v", got, want)
		}
		// The desk books the place inside the notice; it is no longer offered.
		w.k.staffBook(t, w.reception, requestBody(w.soon))
		if got, want := ids(t, e.do("GET", "/v1/availability/next?window=staff&"+w.nextQuery, nil, w.reception), "after booking"), strs(w.walkIn, w.public, w.far); !slices.Equal(got, want) {
			t.Errorf("after booking the place inside the notice: got %v, want %v", got, want)
		}
	})
}

// window=staff is for those who may book by phone: no token or a bad one
// is 401 with the bearer challenge, a clinician 403; the public window
// needs nothing, and ignores a bad token as before.
func TestAvailabilityStaffWindowAccess(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		w := newStaffWindowClinic(t, e)
		for _, path := range []string{"/v1/availability/next?window=staff&" + w.nextQuery, "/v1/availability?window=staff&" + w.dayQ} {
			for _, tt := range []struct {
				name, authz, code, challenge string
				status                       int
			}{
				{"no token", "", "unauthenticated", `Bearer realm="clinic"`, http.StatusUnauthorized},
				{"a bad token", "Authorization: Bearer not-a-token", "unauthenticated", `Bearer realm="clinic", error="invalid_token"`, http.StatusUnauthorized},
				{"a clinician", w.clinician, "forbidden", "", http.StatusForbidden},
				{"reception", w.reception, "", "", http.StatusOK},
			} {
				r := e.do("GET", path, nil, tt.authz)
				if r.Status != tt.status || r.code() != tt.code {
					t.Errorf("%s, %s: got %d %q %s, want %d %q", path, tt.name, r.Status, r.code(), r.Body, tt.status, tt.code)
				}
				if got := r.Header.Get("WWW-Authenticate"); got != tt.challenge {
					t.Errorf("%s, %s: WWW-Authenticate %q, want %q", path, tt.name, got, tt.challenge)
				}
			}
		}
		if r := e.do("GET", "/v1/availability/next?"+w.nextQuery, nil, "Authorization: Bearer not-a-token"); r.Status != http.StatusOK {
			t.Errorf("public window with a bad token: got %d %s, want 200", r.Status, r.Body)
		}
	})
}

// The public availability cache never holds a staff answer, nor answers a
// staff question: asked in either order, and again once the public answer
// is cached, each window gets its own places.
func TestCachedAvailabilityKeepsTheStaffWindowOut(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		w := newStaffWindowClinic(t, e)
		staff := func() resp { return e.do("GET", "/v1/availability?window=staff&"+w.dayQ, nil, w.reception) }
		public := func() resp { return e.do("GET", "/v1/availability?"+w.dayQ, nil) }
		wantStaff, wantPublic := strs(w.walkIn, w.soon, w.public), strs(w.public)
		var staffTag, publicTag string
		for i, step := range []struct {
			name string
			ask  func() resp
			want []string
			tag  *string
		}{
			{"staff first", staff, wantStaff, &staffTag},
			{"then public", public, wantPublic, &publicTag},
			{"public again (cached)", public, wantPublic, &publicTag},
			{"staff again", staff, wantStaff, &staffTag},
			{"public once more", public, wantPublic, &publicTag},
		} {
			r := step.ask()
			if got := ids(t, r, step.name); !slices.Equal(got, step.want) {
				t.Errorf("step %d, %s: got %v, want %v", i, step.name, got, step.want)
			}
			tag := r.Header.Get("ETag")
			if *step.tag != "" && tag != *step.tag {
				t.Errorf("step %d, %s: ETag %s, want %s as before", i, step.name, tag, *step.tag)
			}
			*step.tag = tag
		}
		if staffTag == publicTag {
			t.Errorf("the staff and public answers share the ETag %s", staffTag)
		}
		// A public revalidation with the staff answer's ETag is not a 304.
		if r := e.do("GET", "/v1/availability?"+w.dayQ, nil, "If-None-Match: "+staffTag); r.Status != http.StatusOK {
			t.Errorf("public If-None-Match with the staff ETag: got %d, want 200", r.Status)
		}
		// A staff revalidation gets its 304.
		if r := e.do("GET", "/v1/availability?window=staff&"+w.dayQ, nil, w.reception, "If-None-Match: "+staffTag); r.Status != http.StatusNotModified {
			t.Errorf("staff If-None-Match: got %d, want 304", r.Status)
		}
	})
}
