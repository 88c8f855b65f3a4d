package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/calendar/icaltest"
	"github.com/clinic/consult/internal/httpapi"
)

// feedScript reads a feed with Python's icalendar, an independent parser,
// and prints each event with its start and end as UTC instants read two
// ways: through the file's own VTIMEZONE, and through Python's zone
// database. It fails when an event's TZID has no VTIMEZONE in the file.
const feedScript = `
import sys, json, datetime
import icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
zones = {str(tz['TZID']): tz.to_tz() for tz in cal.walk('VTIMEZONE')}
def utc(prop):
    tzid = prop.params['TZID']
    own = zones[tzid].localize(prop.dt.replace(tzinfo=None)).astimezone(datetime.timezone.utc)
    return own.strftime('%Y-%m-%dT%H:%M:%SZ'), prop.dt.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'), prop.dt.strftime('%H:%M'), tzid
out = []
for ev in cal.walk('VEVENT'):
    s = utc(ev['DTSTART']); e = utc(ev['DTEND'])
    out.append({"uid": str(ev['UID']), "status": str(ev['STATUS']), "summary": str(ev['SUMMARY']),
        "location": str(ev.get('LOCATION', '')), "description": str(ev.get('DESCRIPTION', '')),
        "start_own": s[0], "start_db": s[1], "local": s[2], "end_own": e[0], "end_db": e[1], "tzid": s[3]})
print(json.dumps(out))
`

type feedICSEvent struct {
	UID         string `json:"uid"`
	Status      string `json:"status"`
	Summary     string `json:"summary"`
	Location    string `json:"location"`
	Description string `json:"description"`
	StartOwn    string `json:"start_own"`
	StartDB     string `json:"start_db"`
	Local       string `json:"local"`
	EndOwn      string `json:"end_own"`
	EndDB       string `json:"end_db"`
	TZID        string `json:"tzid"`
}

func parseFeed(t *testing.T, py string, ics []byte) []feedICSEvent {
	t.Helper()
	var evs []feedICSEvent
	icaltest.Parse(t, py, feedScript, ics, &evs)
	return evs
}

// nextDSTChange returns the first offset change of zone after t.
func nextDSTChange(t *testing.T, zone *time.Location, after time.Time) time.Time {
	t.Helper()
	_, end := after.In(zone).ZoneBounds()
	if end.IsZero() {
		t.Fatalf("%s has no offset change after %s", zone, after)
	}
	return end
}

func TestProviderCalendarFeed(t *testing.T) {
	py := icaltest.Python(t)
	long := func(o *httpapi.Options, _ *auth.Options) { o.Policy.MaxAdvance = 400 * 24 * time.Hour }
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		admin := e.token(auth.RoleAdmin)
		desk := e.token(auth.RoleReception)
		la, err := time.LoadLocation("America/Los_Angeles")
		if err != nil {
			t.Fatal(err)
		}
		// The week around the clinic's next DST change: 09:00 local three
		// days before and two days after.
		change := nextDSTChange(t, la, time.Now().Add(4*24*time.Hour))
		at9 := func(d time.Time) time.Time {
			y, m, dd := d.In(la).Date()
			return time.Date(y, m, dd, 9, 0, 0, 0, la)
		}
		before, after := at9(change.AddDate(0, 0, -3)), at9(change.AddDate(0, 0, 2))
		book := func(start time.Time, provider uuid.UUID) created {
			t.Helper()
			slot := k.slot(t, slotOpts{start: start, provider: provider})
			return k.request(t, slot)
		}
		pendingBefore := book(before, k.provider)
		confirmedAfter := book(after, k.provider)
		if r := e.do("POST", "/v1/bookings/"+confirmedAfter.ID+"/confirm", nil, desk); r.Status != http.StatusOK {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
		cancelled := book(time.Now().Add(10*24*time.Hour).Truncate(time.Hour), k.provider)
		if r := e.do("POST", "/v1/bookings/"+cancelled.ID+"/cancel", map[string]string{"reason": "x"}, desk); r.Status != http.StatusOK {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		other := book(time.Now().Add(11*24*time.Hour).Truncate(time.Hour), k.provider2)

		r := e.do("POST", "/v1/providers/"+k.provider.String()+"/calendar-feed", nil, admin)
		if r.Status != http.StatusCreated {
			t.Fatalf("make feed: got %d %s", r.Status, r.Body)
		}
		var feed struct {
			URL   string `json:"url"`
			Token string `json:"token"`
		}
		r.decode(t, &feed)
		path := "/v1/calendar-feeds/" + feed.Token + ".ics"
		if !strings.HasSuffix(feed.URL, path) {
			t.Fatalf("url %q: want it to end with %s", feed.URL, path)
		}

		got := e.do("GET", path, nil) // no login
		if got.Status != http.StatusOK || !strings.HasPrefix(got.Header.Get("Content-Type"), "text/calendar") || got.Header.Get("ETag") == "" {
			t.Fatalf("feed: got %d %q etag %q", got.Status, got.Header.Get("Content-Type"), got.Header.Get("ETag"))
		}
		if !bytes.Contains(got.Body, []byte("REFRESH-INTERVAL;VALUE=DURATION:PT15M")) {
			t.Error("the feed does not say how often to refresh it")
		}
		for _, secret := range []string{"Ana", "Lopez", "4245550123", "ana@example.com", "moved house", "lower back", "herniated"} {
			if bytes.Contains(got.Body, []byte(secret)) {
				t.Errorf("the feed contains %q", secret)
			}
		}
		evs := parseFeed(t, py, got.Body)
		byRef := map[string]feedICSEvent{}
		for _, ev := range evs {
			for _, c := range []created{pendingBefore, confirmedAfter, cancelled, other} {
				if strings.Contains(ev.Summary, c.Reference) {
					byRef[c.Reference] = ev
				}
			}
		}
		if len(evs) != 2 || len(byRef) != 2 {
			t.Fatalf("events: got %+v, want the pending and the confirmed booking of this provider only", evs)
		}
		for _, tc := range []struct {
			c      created
			start  time.Time
			status string
		}{
			{pendingBefore, before, "TENTATIVE"},
			{confirmedAfter, after, "CONFIRMED"},
		} {
			ev := byRef[tc.c.Reference]
			want := tc.start.UTC().Format("2006-01-02T15:04:05Z")
			if ev.StartOwn != want || ev.StartDB != want || ev.Local != "09:00" || ev.TZID != "America/Los_Angeles" {
				t.Errorf("%s: start %s (own VTIMEZONE) / %s (zone database) at %s %s, want %s at 09:00 America/Los_Angeles",
					tc.c.Reference, ev.StartOwn, ev.StartDB, ev.Local, ev.TZID, want)
			}
			if wantEnd := tc.start.Add(45 * time.Minute).UTC().Format("2006-01-02T15:04:05Z"); ev.EndOwn != wantEnd {
				t.Errorf("%s: end %s, want %s", tc.c.Reference, ev.EndOwn, wantEnd)
			}
			if ev.Status != tc.status {
				t.Errorf("%s: status %s, want %s", tc.c.Reference, ev.Status, tc.status)
			}
			if want := "New patient consultation - A.L. - " + tc.c.Reference; ev.Summary != want {
				t.Errorf("summary: got %q, want %q", ev.Summary, want)
			}
			if !strings.HasPrefix(ev.UID, tc.c.ID+"@") {
				t.Errorf("uid %q: want the booking id", ev.UID)
			}
		}
		// The two 09:00 appointments are 5 days apart on the calendar but not
		// 5*24 hours: the clocks moved between them.
		if d := after.Sub(before); d == 5*24*time.Hour {
			t.Fatalf("the week does not cross a DST change (%s)", d)
		}

		// Unchanged: 304. Changed: a new ETag.
		if r := e.do("GET", path, nil, "If-None-Match: "+got.Header.Get("ETag")); r.Status != http.StatusNotModified {
			t.Errorf("If-None-Match with the ETag: got %d, want 304", r.Status)
		}
		if r := e.do("POST", "/v1/bookings/"+pendingBefore.ID+"/decline", map[string]string{"reason": "referral needed"}, desk); r.Status != http.StatusOK {
			t.Fatalf("decline: %d %s", r.Status, r.Body)
		}
		again := e.do("GET", path, nil, "If-None-Match: "+got.Header.Get("ETag"))
		if again.Status != http.StatusOK || again.Header.Get("ETag") == got.Header.Get("ETag") {
			t.Fatalf("after a change: got %d etag %s, want 200 with a new ETag", again.Status, again.Header.Get("ETag"))
		}
		if n := len(parseFeed(t, py, again.Body)); n != 1 {
			t.Errorf("after declining one: %d events, want 1", n)
		}

		// A new feed URL replaces the old one at once.
		r = e.do("POST", "/v1/providers/"+k.provider.String()+"/calendar-feed", nil, admin)
		var rotated struct {
			Token string `json:"token"`
		}
		r.decode(t, &rotated)
		if rotated.Token == "" || rotated.Token == feed.Token {
			t.Fatalf("rotate: got token %q, want a new one", rotated.Token)
		}
		if r := e.do("GET", path, nil); r.Status != http.StatusNotFound {
			t.Errorf("old URL: got %d, want 404", r.Status)
		}
		if r := e.do("GET", "/v1/calendar-feeds/"+rotated.Token+".ics", nil); r.Status != http.StatusOK {
			t.Errorf("new URL: got %d, want 200", r.Status)
		}
		if r := e.do("GET", "/v1/calendar-feeds/"+rotated.Token, nil); r.Status != http.StatusNotFound {
			t.Errorf("without .ics: got %d, want 404", r.Status)
		}
		if r := e.do("POST", "/v1/providers/"+uuid.NewString()+"/calendar-feed", nil, admin); r.Status != http.StatusNotFound {
			t.Errorf("unknown provider: got %d, want 404", r.Status)
		}
		if r := e.do("POST", "/v1/providers/"+k.provider.String()+"/calendar-feed", nil, desk); r.Status != http.StatusForbidden {
			t.Errorf("reception makes a feed: got %d, want 403", r.Status)
		}
	}, long)
}

// A provider's feed URL can be revoked (admin only) and dies with its
// provider: deactivated, the URL answers 404, and activating the provider
// again does not bring the old URL back.
func TestProviderCalendarFeedRevokedAndDeadWithItsProvider(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		admin := e.token(auth.RoleAdmin)
		makeFeed := func(provider uuid.UUID) string {
			t.Helper()
			r := e.do("POST", "/v1/providers/"+provider.String()+"/calendar-feed", nil, admin)
			if r.Status != http.StatusCreated {
				t.Fatalf("make feed: got %d %s", r.Status, r.Body)
			}
			var feed struct {
				Token string `json:"token"`
			}
			r.decode(t, &feed)
			return "/v1/calendar-feeds/" + feed.Token + ".ics"
		}
		status := func(path string) int {
			t.Helper()
			return e.do("GET", path, nil).Status
		}

		revoked := makeFeed(k.provider)
		for _, tc := range []struct {
			role auth.Role
			want int
		}{
			{auth.RoleReception, http.StatusForbidden},
			{auth.RoleClinician, http.StatusForbidden},
		} {
			if got := e.do("DELETE", "/v1/providers/"+k.provider.String()+"/calendar-feed", nil, e.token(tc.role)).Status; got != tc.want {
				t.Errorf("DELETE as %s: got %d, want %d", tc.role, got, tc.want)
			}
		}
		if got := e.do("DELETE", "/v1/providers/"+k.provider.String()+"/calendar-feed", nil).Status; got != http.StatusUnauthorized {
			t.Errorf("DELETE without login: got %d, want 401", got)
		}
		if got := status(revoked); got != http.StatusOK {
			t.Fatalf("feed before revoking: got %d, want 200", got)
		}
		for i := range 2 { // idempotent
			if r := e.do("DELETE", "/v1/providers/"+k.provider.String()+"/calendar-feed", nil, admin); r.Status != http.StatusNoContent {
				t.Errorf("DELETE #%d: got %d %s, want 204", i+1, r.Status, r.Body)
			}
		}
		if got := status(revoked); got != http.StatusNotFound {
			t.Errorf("revoked feed: got %d, want 404", got)
		}
		if got := e.do("DELETE", "/v1/providers/"+uuid.NewString()+"/calendar-feed", nil, admin).Status; got != http.StatusNotFound {
			t.Errorf("DELETE for an unknown provider: got %d, want 404", got)
		}

		live := makeFeed(k.provider)
		if got := status(live); got != http.StatusOK {
			t.Fatalf("new feed after revoking: got %d, want 200", got)
		}
		setActive := func(active bool) {
			t.Helper()
			r := e.do("PATCH", "/v1/providers/"+k.provider.String(), map[string]any{"active": active}, admin)
			if r.Status != http.StatusOK {
				t.Fatalf("PATCH active=%v: got %d %s", active, r.Status, r.Body)
			}
		}
		setActive(false)
		if got := status(live); got != http.StatusNotFound {
			t.Errorf("feed of a deactivated provider: got %d, want 404", got)
		}
		setActive(true)
		if got := status(live); got != http.StatusNotFound {
			t.Errorf("old feed after the provider is active again: got %d, want 404", got)
		}
		if got := status(makeFeed(k.provider)); got != http.StatusOK {
			t.Errorf("a new feed for the active provider: got %d, want 200", got)
		}
	})
}
