package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
)

type availabilityJSON struct {
	Days []struct {
		Date     string `json:"date"`
		Timezone string `json:"timezone"`
		Slots    []struct {
			ID        string    `json:"id"`
			StartAt   time.Time `json:"start_at"`
			Remaining int       `json:"remaining"`
		} `json:"slots"`
	} `json:"days"`
}

// available returns the ids of the slots GET /v1/availability offers for
// query, failing unless 200.
func (e *env) available(query string) []string {
	e.t.Helper()
	r := e.do("GET", "/v1/availability?"+query, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("availability?%s: got %d %s, want 200", query, r.Status, r.Body)
	}
	var a availabilityJSON
	r.decode(e.t, &a)
	var ids []string
	for _, d := range a.Days {
		for _, sl := range d.Slots {
			ids = append(ids, sl.ID)
		}
	}
	return ids
}

func days(from, to time.Time) string {
	return daysIn(time.UTC, from, to)
}

// clinicDays is days for the clinic fixture (newClinic), whose location is
// in Los Angeles: the API reads the days in the location's zone, and a UTC
// date would miss a slot on the local day before (every evening there).
func clinicDays(from, to time.Time) string {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		panic(err)
	}
	return daysIn(la, from, to)
}

func daysIn(zone *time.Location, from, to time.Time) string {
	return "from=" + from.In(zone).Format("2006-01-02") + "&to=" + to.In(zone).Format("2006-01-02")
}

// Only slots inside the booking window are offered: at least MIN_NOTICE
// (2h in tests) and at most MAX_ADVANCE (120 days) ahead.
func TestAvailabilityBookingWindow(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		reception := e.token(auth.RoleReception)
		c := e.seedCatalog(e.token(auth.RoleAdmin), "UTC")
		now := time.Now().UTC().Truncate(time.Minute)
		slot := func(at time.Time) string { return e.postSlot(reception, c.slotBody(at)).ID }
		tooSoon := slot(now.Add(90 * time.Minute))
		soonest := slot(now.Add(2*time.Hour + 5*time.Minute))
		latest := slot(now.Add(120*24*time.Hour - 5*time.Minute))
		tooFar := slot(now.Add(120*24*time.Hour + 30*time.Minute))
		near := e.available(days(now.AddDate(0, 0, -1), now.AddDate(0, 0, 1)))
		if !slices.Contains(near, soonest) || slices.Contains(near, tooSoon) {
			t.Errorf("near now: got %v, want %s (after MIN_NOTICE) and not %s (before)", near, soonest, tooSoon)
		}
		end := now.Add(120 * 24 * time.Hour)
		far := e.available(days(end.AddDate(0, 0, -1), end.AddDate(0, 0, 1)))
		if !slices.Contains(far, latest) || slices.Contains(far, tooFar) {
			t.Errorf("near MAX_ADVANCE: got %v, want %s (before) and not %s (after)", far, latest, tooFar)
		}
	})
}

// A blocked or full slot is hidden from the public; reopened, it shows
// again. Each slot shows its places left.
func TestAvailabilityHidesBlockedAndFullSlots(t *testing.T) {
	eachBackendURL(t, func(t *testing.T, e *env, dbURL string) {
		reception := e.token(auth.RoleReception)
		c := e.seedCatalog(e.token(auth.RoleAdmin), "UTC")
		open := e.postSlot(reception, c.slotBody(future(0))).ID
		blocked := e.postSlot(reception, c.slotBody(future(1))).ID
		full := e.postSlot(reception, c.slotBody(future(2))).ID
		body := c.slotBody(future(3))
		body["capacity"] = 3
		partly := e.postSlot(reception, body).ID
		setBooked(t, dbURL, full, 1)
		setBooked(t, dbURL, partly, 2)
		if r := e.do("PATCH", "/v1/slots/"+blocked, map[string]any{"status": "blocked"}, reception); r.Status != http.StatusOK {
			t.Fatalf("block: %d %s", r.Status, r.Body)
		}
		q := days(future(0), future(4)) + "&provider_id=" + c.provider
		if got, want := e.available(q), []string{open, partly}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v (not blocked %s nor full %s)", got, want, blocked, full)
		}
		var a availabilityJSON
		e.do("GET", "/v1/availability?"+q, nil).decode(t, &a)
		for _, d := range a.Days {
			for _, sl := range d.Slots {
				if want := map[string]int{open: 1, partly: 1}[sl.ID]; sl.Remaining != want {
					t.Errorf("slot %s: remaining %d, want %d", sl.ID, sl.Remaining, want)
				}
			}
		}
		e.do("PATCH", "/v1/slots/"+blocked, map[string]any{"status": "open"}, reception)
		if got, want := e.available(q), []string{open, blocked, partly}; !slices.Equal(got, want) {
			t.Errorf("after reopening: got %v, want %v", got, want)
		}
	})
}

// Days are the slots' local calendar days in their location's timezone.
func TestAvailabilityGroupsByLocalDay(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		reception := e.token(auth.RoleReception)
		la := e.seedCatalog(admin, "America/Los_Angeles")
		be := e.seedCatalog(admin, "Europe/Berlin")
		laTZ, _ := time.LoadLocation("America/Los_Angeles")
		beTZ, _ := time.LoadLocation("Europe/Berlin")
		day := time.Now().AddDate(0, 0, 10)
		y, m, d := day.Date()
		laLate := e.postSlot(reception, la.slotBody(time.Date(y, m, d, 23, 0, 0, 0, laTZ))).ID  // the next day in UTC
		beEarly := e.postSlot(reception, be.slotBody(time.Date(y, m, d, 0, 30, 0, 0, beTZ))).ID // the day before in UTC
		e.postSlot(reception, be.slotBody(time.Date(y, m, d+1, 0, 30, 0, 0, beTZ)))             // the next local day
		e.postSlot(reception, la.slotBody(time.Date(y, m, d-1, 23, 0, 0, 0, laTZ)))             // the local day before
		date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		r := e.do("GET", "/v1/availability?from="+date+"&to="+date, nil)
		var a availabilityJSON
		r.decode(t, &a)
		type dayKey struct{ date, tz, slot string }
		var got []dayKey
		for _, dd := range a.Days {
			for _, sl := range dd.Slots {
				got = append(got, dayKey{dd.Date, dd.Timezone, sl.ID})
			}
		}
		want := []dayKey{{date, "America/Los_Angeles", laLate}, {date, "Europe/Berlin", beEarly}}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if got := e.available("from=" + date + "&to=" + date + "&location_id=" + be.location); !slices.Equal(got, []string{beEarly}) {
			t.Errorf("location filter: got %v, want %v", got, beEarly)
		}
		if got := e.available("from=" + date + "&to=" + date + "&consultation_type_id=" + la.ctype + "&provider_id=" + la.provider); !slices.Equal(got, []string{laLate}) {
			t.Errorf("type and provider filter: got %v, want %v", got, laLate)
		}
	})
}

func TestAvailabilityValidation(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	tests := []struct {
		query  string
		status int
		fields []string
	}{
		// Parameters that break their schema are 400; values that fit it but
		// make no sense together are 422.
		{"from=2027-01-10&to=2027-01-09", http.StatusUnprocessableEntity, []string{"to"}},
		{"from=2027-01-01&to=2027-03-04", http.StatusUnprocessableEntity, []string{"to"}}, // 63 days
		{"from=2027-02-30&to=2027-03-01", http.StatusBadRequest, []string{"from"}},
		{"from=2027-01-01T00:00:00Z&to=2027-01-02", http.StatusBadRequest, []string{"from"}},
		{"from=2027-01-01&to=2027-01-02&provider_id=nope&location_id=x", http.StatusBadRequest, []string{"provider_id", "location_id"}},
		{"from=2027-01-01&to=2027-01-02&consultation_type_id=1", http.StatusBadRequest, []string{"consultation_type_id"}},
		{"to=2027-01-02", http.StatusBadRequest, nil},
		{"from=2027-01-01&to=2027-03-03", http.StatusOK, nil}, // 62 days
	}
	for _, tt := range tests {
		r := e.do("GET", "/v1/availability?"+tt.query, nil)
		if r.Status != tt.status {
			t.Errorf("?%s: got %d %s, want %d", tt.query, r.Status, r.Body, tt.status)
			continue
		}
		if tt.fields != nil {
			if got := problemFields(t, r); !slices.Equal(got, tt.fields) {
				t.Errorf("?%s: fields got %v, want %v", tt.query, got, tt.fields)
			}
		}
	}
}

// The response has a strong ETag and asks caches to revalidate; a matching
// If-None-Match gets 304 until the availability changes.
func TestAvailabilityETag(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		reception := e.token(auth.RoleReception)
		c := e.seedCatalog(e.token(auth.RoleAdmin), "UTC")
		sl := e.postSlot(reception, c.slotBody(future(0)))
		q := "/v1/availability?" + days(future(0), future(0))
		first := e.do("GET", q, nil)
		etag := first.Header.Get("ETag")
		if first.Status != http.StatusOK || len(etag) < 10 || etag[0] != '"' {
			t.Fatalf("first: got %d ETag %q", first.Status, etag)
		}
		if got := first.Header.Get("Cache-Control"); got != "public, no-cache" {
			t.Errorf("Cache-Control: got %q, want public, no-cache", got)
		}
		if again := e.do("GET", q, nil); again.Header.Get("ETag") != etag || string(again.Body) != string(first.Body) {
			t.Errorf("same request: ETag %q, want %q", again.Header.Get("ETag"), etag)
		}
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			r := e.do("GET", q, nil, "If-None-Match: "+inm)
			if r.Status != http.StatusNotModified || len(r.Body) != 0 || r.Header.Get("ETag") != etag {
				t.Errorf("If-None-Match %s: got %d %q ETag %q, want 304, no body, same ETag", inm, r.Status, r.Body, r.Header.Get("ETag"))
			}
		}
		if r := e.do("GET", q, nil, `If-None-Match: "stale"`); r.Status != http.StatusOK {
			t.Errorf("stale If-None-Match: got %d, want 200", r.Status)
		}
		// Blocking the slot changes the answer, so the old ETag no longer matches.
		e.do("PATCH", "/v1/slots/"+sl.ID, map[string]any{"status": "blocked"}, reception)
		r := e.do("GET", q, nil, "If-None-Match: "+etag)
		if r.Status != http.StatusOK || r.Header.Get("ETag") == etag {
			t.Errorf("after blocking: got %d ETag %q, want 200 and a new ETag", r.Status, r.Header.Get("ETag"))
		}
		var a availabilityJSON
		r.decode(t, &a)
		if len(a.Days) != 0 {
			t.Errorf("after blocking: got %+v, want no days", a)
		}
	})
}
