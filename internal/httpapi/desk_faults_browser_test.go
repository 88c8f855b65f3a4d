package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// The reception desk when things go wrong: another receptionist acted
// first, the session ended mid-action, the server restarted, a patient's
// name is markup or a spreadsheet formula. A real Chromium against a real
// server, as in desk_browser_test.go.

// soonOpts lets a booking be requested for within the hour (so that it can
// be checked in today) and switches the public rate limit off.
func soonOpts(o *httpapi.Options, _ *auth.Options) {
	o.PublicRateLimit = 0
	o.Policy.MinNotice = 0
}

// laDay is the local day of t at the test clinic's location.
func laDay(t *testing.T, at time.Time) string {
	t.Helper()
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	return at.In(la).Format(time.DateOnly)
}

// deskDay shows Today for day.
func (b *browser) deskDay(day string) {
	b.t.Helper()
	b.wait("the today screen", `location.pathname === "/desk/today" && document.querySelector('input[type="date"]')`)
	b.js(`(() => { const d = document.querySelector('input[type="date"]'); d.value = `+jsString(day)+`; d.dispatchEvent(new Event("change")); return true })()`, nil)
}

// act posts a staff action on a booking, as another receptionist would.
func (e *env) act(t *testing.T, id, action string, body any) resp {
	t.Helper()
	return e.do("POST", "/v1/bookings/"+id+"/"+action, body, e.token(auth.RoleReception))
}

// TestDeskShowsWhatChanged: an action that another receptionist made moot
// (409) shows the booking as it is now with the server's reason next to
// it, the focus on it; a move whose place was taken meanwhile offers the
// free times again.
func TestDeskShowsWhatChanged(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t, sqliteURL(t), soonOpts)
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	soon := time.Now().Add(time.Hour).Truncate(time.Minute)
	ana := k.request(t, k.slot(t, slotOpts{start: soon}))
	kimBody := with(with(requestBody(k.slot(t, slotOpts{start: soon.Add(90 * time.Minute)})), "patient.phone", "+14245559876"), "patient.email", "kim@example.com")
	var kim created
	if r := e.do("POST", "/v1/booking-requests", kimBody); r.Status != http.StatusCreated {
		t.Fatalf("request: %d %s", r.Status, r.Body)
	} else {
		r.decode(t, &kim)
	}
	for _, id := range []string{ana.ID, kim.ID} {
		if r := e.act(t, id, "confirm", nil); r.Status != http.StatusOK {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
	}
	target := k.slot(t, slotOpts{start: soon.Add(3 * time.Hour)})
	k.slot(t, slotOpts{start: soon.Add(4 * time.Hour)}) // still free when target is taken

	b.do(chromedp.Navigate(e.URL + "/desk/today"))
	b.deskSignIn("rita@clinic.example", "a long password 1")
	b.deskDay(laDay(t, soon))
	b.wait("the confirmed booking", deskRow(ana.ID)+`.dataset.status === "confirmed"`)

	// 1. Another receptionist checks Ana in; this desk, not yet told,
	// checks her in too: the server says no, and the desk shows why and
	// what she is now.
	b.js(`window.staleCheckIn = `+deskRow(ana.ID)+`.querySelector('button[data-action="check-in"]'); document.activeElement.blur(); true`, nil)
	if r := e.act(t, ana.ID, "check-in", nil); r.Status != http.StatusOK {
		t.Fatalf("check-in elsewhere: %d %s", r.Status, r.Body)
	}
	b.js(`window.staleCheckIn.click(); true`, nil)
	again := e.act(t, ana.ID, "check-in", nil)
	var p struct{ Detail string }
	again.decode(t, &p)
	if again.Status != http.StatusConflict || p.Detail == "" {
		t.Fatalf("a second check-in: %d %s, want a 409 with a detail", again.Status, again.Body)
	}
	shown := deskRow(ana.ID) + `.dataset.status === "checked_in" && ` + deskRow(ana.ID) + `.querySelector(".problem").textContent === ` + jsString(p.Detail) +
		` && ` + deskRow(ana.ID) + `.contains(document.activeElement)`
	b.waitWithin(10*time.Second, "the booking as it is now, with the server's reason, focused", shown)
	// The live feed's own reload of the list keeps it so.
	time.Sleep(600 * time.Millisecond)
	var still bool
	b.js(shown, &still)
	if !still {
		t.Error("after the live reload, the booking no longer shows the refusal with the focus on it")
	}
	var offered []string
	b.js(`[...`+deskRow(ana.ID)+`.querySelectorAll("button[data-action]")].map(x => x.dataset.action)`, &offered)
	if strings.Join(offered, ",") != "complete,revert" {
		t.Errorf("after the refusal, the booking offers %v, want complete,revert (the choices of a checked-in booking)", offered)
	}

	// 2. Kim is being moved to a time that another patient books first.
	b.js(deskRow(kim.ID)+`.querySelector('button[data-action="reschedule"]').click()`, nil)
	b.wait("the free times", deskRow(kim.ID)+`.querySelector('input[name="slot_id"][value=`+jsString(target.String())+`]')`)
	taker := with(with(requestBody(target), "patient.phone", "+14245554444"), "patient.email", "ruiz@example.com")
	if r := e.do("POST", "/v1/booking-requests", taker); r.Status != http.StatusCreated {
		t.Fatalf("the place taken: %d %s", r.Status, r.Body)
	}
	b.js(`(() => { const row = `+deskRow(kim.ID)+`; row.querySelector('input[name="slot_id"][value=`+jsString(target.String())+`]').click();
		row.querySelector('form.reason').requestSubmit(); return true })()`, nil)
	b.waitWithin(10*time.Second, "the refusal and the free times offered again",
		deskRow(kim.ID)+`.querySelector(".problem").textContent !== "" && `+deskRow(kim.ID)+`.querySelector('form.reason[data-reason-for="reschedule"] input[name="slot_id"]') && `+
			`!`+deskRow(kim.ID)+`.querySelector('input[name="slot_id"][value=`+jsString(target.String())+`]') && `+deskRow(kim.ID)+`.contains(document.activeElement)`)
	r := e.do("GET", "/v1/bookings/"+kim.ID, nil, e.token(auth.RoleReception))
	var got staffBooking
	r.decode(t, &got)
	if got.Status != "confirmed" || got.Slot.ID == target.String() {
		t.Errorf("kim: %s on %s; want still confirmed on her own slot", got.Status, got.Slot.ID)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// refreshCookie is the desk's refresh cookie in the browser.
func (b *browser) refreshCookie(url string) string {
	b.t.Helper()
	jar, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url + "/v1/auth/refresh"}})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range jar.Cookies {
		if c.Name == "__Secure-refresh" {
			return c.Value
		}
	}
	b.t.Fatal("no refresh cookie in the browser")
	return ""
}

// TestDeskSessionEndsMidAction: the session ends (signed out elsewhere,
// the access token expired) while a caller is being booked; the desk asks
// to sign in again and then books with everything that was typed, once.
// Someone else signing in gets a fresh screen.
func TestDeskSessionEndsMidAction(t *testing.T) {
	b := newBrowser(t)
	var skew atomic.Int64 // the accounts' clock, moved on to expire access tokens
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, ao *auth.Options) {
		ao.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		o.PublicRateLimit = 0
	})
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	free := k.slot(t, slotOpts{typeID: k.instant})

	b.do(chromedp.Navigate(e.URL + "/desk/book"))
	b.deskSignIn("rita@clinic.example", "a long password 1")
	b.wait("the book screen", `document.querySelector("form.book")`)
	b.js(`(() => { const s = document.querySelector('select[name="consultation_type_id"]'); s.value = `+jsString(k.instant.String())+`;
		s.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the free time", `document.querySelector('input[name="slot_id"][value=`+jsString(free.String())+`]')`)
	b.js(`(() => { document.querySelector('input[name="slot_id"][value=`+jsString(free.String())+`]').click();
		const set = (n, v) => { document.querySelector('[name="' + n + '"]').value = v; };
		set("patient.first_name", "Bea"); set("patient.last_name", "Okafor"); set("patient.date_of_birth", "1991-09-09"); set("patient.phone", "+1 424 555 3131");
		document.querySelector('input[name="intake.red_flags"][value="none"]').click();
		document.querySelector('#bk-consent').click();
		return true })()`, nil)

	// Signed out elsewhere (the cookie spent) and the access token expired.
	cookie := b.refreshCookie(e.URL)
	if r := e.do("POST", "/v1/auth/logout", nil, "Cookie: __Secure-refresh="+cookie, "X-Requested-With: fetch", "Origin: "+e.URL); r.Status >= 300 {
		t.Fatalf("logout elsewhere: %d %s", r.Status, r.Body)
	}
	skew.Store(int64(20 * time.Minute))
	b.js(`document.querySelector("form.book").requestSubmit(); true`, nil)
	b.wait("the sign-in form", `document.querySelector("form.signin") && document.querySelector("#signin-error").textContent.includes("Sign in again")`)
	var stored int
	b.js(`localStorage.length + sessionStorage.length`, &stored)
	if stored != 0 {
		t.Errorf("the desk wrote %d items to web storage, want none", stored)
	}
	if n := bookingsIn(t, e, free); n != 0 {
		t.Fatalf("before signing in again: %d bookings on the slot, want 0", n)
	}

	// Signed in again: the booking goes through with what was typed.
	b.deskSignIn("rita@clinic.example", "a long password 1")
	b.waitWithin(10*time.Second, "the booking made and found", `location.pathname === "/desk/find" && document.querySelector('[data-booking-id][data-status="confirmed"]')`)
	var id string
	b.js(`document.querySelector("[data-booking-id]").dataset.bookingId`, &id)
	r := e.do("GET", "/v1/bookings/"+id, nil, e.token(auth.RoleReception))
	var got struct {
		Patient struct {
			FirstName string `json:"first_name"`
			LastName  string `json:"last_name"`
			Phone     string `json:"phone"`
		} `json:"patient"`
		Slot struct {
			ID string `json:"id"`
		} `json:"slot"`
	}
	r.decode(t, &got)
	if got.Patient.FirstName != "Bea" || got.Patient.LastName != "Okafor" || got.Patient.Phone != "+14245553131" || got.Slot.ID != free.String() {
		t.Errorf("the booking: %s; want Bea Okafor, +14245553131, on %s", r.Body, free)
	}
	if n := bookingsIn(t, e, free); n != 1 {
		t.Errorf("%d bookings on the slot, want 1", n)
	}

	// Someone else at the same desk after a lost session: a fresh screen.
	e.newAccount(auth.RoleReception, "ruth@clinic.example", "a long password 2")
	b.js(`document.querySelector('nav a[data-screen="book"]').click(); true`, nil)
	b.wait("the book screen again", `document.querySelector("form.book")`)
	b.js(`document.querySelector('[name="patient.first_name"]').value = "Typed by Rita"; true`, nil)
	cookie = b.refreshCookie(e.URL)
	if r := e.do("POST", "/v1/auth/logout", nil, "Cookie: __Secure-refresh="+cookie, "X-Requested-With: fetch", "Origin: "+e.URL); r.Status >= 300 {
		t.Fatalf("logout elsewhere: %d %s", r.Status, r.Body)
	}
	skew.Store(int64(40 * time.Minute))
	b.js(`document.querySelector('select[name="consultation_type_id"]').dispatchEvent(new Event("change")); true`, nil)
	b.wait("the sign-in form", `document.querySelector("form.signin")`)
	b.deskSignIn("ruth@clinic.example", "a long password 2")
	b.wait("Ruth's own screen", `location.pathname === "/desk/book" && document.querySelector("form.book") && document.querySelector('[name="patient.first_name"]').value === ""`)
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// restartable is the desk's server on a fixed address, stopped and started
// again over the same database; it notes the Last-Event-ID of each live
// feed request.
type restartable struct {
	t    *testing.T
	e    *env
	addr string
	srv  *http.Server
	done chan struct{}

	mu     sync.Mutex
	resume []string // Last-Event-ID of each stream request
}

func (s *restartable) start() {
	s.t.Helper()
	s.done = make(chan struct{})
	h, err := httpapi.NewServer(httpapi.Deps{
		Store: s.e.Store, Auth: s.e.Auth, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(),
		Options: httpapi.Options{BodyLimit: 64 << 10, Policy: testPolicy}, Now: time.Now, Done: s.done,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	var ln net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", s.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/booking-events/stream" {
			s.mu.Lock()
			s.resume = append(s.resume, r.Header.Get("Last-Event-ID"))
			s.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})}
	go func() { _ = s.srv.Serve(ln) }()
}

func (s *restartable) stop() {
	close(s.done) // open event streams end
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = s.srv.Close()
	}
}

func (s *restartable) streams() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.resume...)
}

// TestDeskFeedSurvivesARestart: the server the desk talks to stops; a
// booking changes meanwhile through another server on the same database;
// the server starts again on the same address, and the desk's live feed
// reconnects with Last-Event-ID and shows the change on Today, without a
// reload.
func TestDeskFeedSurvivesARestart(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t, sqliteURL(t), soonOpts) // the other server
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	soon := time.Now().Add(time.Hour).Truncate(time.Minute)
	ana := k.request(t, k.slot(t, slotOpts{start: soon}))
	desk := &restartable{t: t, e: e, addr: "127.0.0.1:0"}
	desk.start()
	t.Cleanup(func() { _ = desk.srv.Close() })
	url := "http://" + desk.addr

	b.do(chromedp.Navigate(url + "/desk/today"))
	b.deskSignIn("rita@clinic.example", "a long password 1")
	b.deskDay(laDay(t, soon))
	b.wait("the request on Today", deskRow(ana.ID)+`.dataset.status === "pending"`)
	if r := e.act(t, ana.ID, "confirm", nil); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	b.waitWithin(5*time.Second, "the confirmation, live", deskRow(ana.ID)+`.dataset.status === "confirmed"`)
	b.js(`window.sameDocument = true`, nil)
	// The last change the desk has seen: the confirmation.
	var feed struct {
		Items []struct {
			ID json.RawMessage `json:"id"`
		} `json:"items"`
	}
	e.do("GET", "/v1/booking-events?limit=200", nil, e.token(auth.RoleReception)).decode(t, &feed)
	if len(feed.Items) == 0 {
		t.Fatal("no booking events")
	}
	seen := strings.Trim(string(feed.Items[len(feed.Items)-1].ID), `"`)

	desk.stop()
	if r := e.act(t, ana.ID, "check-in", nil); r.Status != http.StatusOK {
		t.Fatalf("check-in while the desk's server is down: %d %s", r.Status, r.Body)
	}
	time.Sleep(time.Second)
	before := len(desk.streams())
	desk.start()
	b.waitWithin(20*time.Second, "the check-in made while the server was down", deskRow(ana.ID)+`.dataset.status === "checked_in" && window.sameDocument === true`)
	after := desk.streams()[before:]
	if len(after) == 0 || after[0] != seen {
		t.Errorf("the feed's requests after the restart carried Last-Event-ID %q, want first %q, the last event seen", after, seen)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// TestDeskHostileNames: names that are markup or a spreadsheet formula are
// shown as text on Today and Find, and the desk's CSV export (the file
// Chromium downloads) holds the formula as text.
func TestDeskHostileNames(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t, sqliteURL(t), soonOpts)
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	soon := time.Now().Add(time.Hour).Truncate(time.Minute)
	const markup, formula = `<img src=x onerror=alert(1)>`, `=HYPERLINK("http://evil.example","x")`
	ids := map[string]string{}
	for i, p := range []struct{ first, last, phone string }{{markup, "Lopez", "+14245551111"}, {"Ana", formula, "+14245552222"}} {
		body := with(with(with(with(requestBody(k.slot(t, slotOpts{start: soon.Add(time.Duration(i) * time.Hour)})),
			"patient.first_name", p.first), "patient.last_name", p.last), "patient.phone", p.phone), "patient.email", "p"+p.phone[1:]+"@example.com")
		r := e.do("POST", "/v1/booking-requests", body)
		if r.Status != http.StatusCreated {
			t.Fatalf("request for %s %s: %d %s", p.first, p.last, r.Status, r.Body)
		}
		var c created
		r.decode(t, &c)
		ids[p.phone] = c.ID
	}
	downloads := t.TempDir()
	on := true
	if err := call(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads, EventsEnabled: &on}); err != nil {
		t.Fatal(err)
	}

	b.do(chromedp.Navigate(e.URL + "/desk/today"))
	b.deskSignIn("rita@clinic.example", "a long password 1")
	b.js(`window.alerts = 0; window.alert = () => { window.alerts++ }; true`, nil)
	b.deskDay(laDay(t, soon))
	asText := func(where string) {
		t.Helper()
		b.wait("both names on "+where, `document.querySelector("main").textContent.includes(`+jsString(markup+" Lopez")+`) && document.querySelector("main").textContent.includes(`+jsString("Ana "+formula)+`)`)
		time.Sleep(200 * time.Millisecond) // an image that failed to load would have run its handler by now
		var bad struct {
			Images, Alerts int
		}
		b.js(`({images: document.querySelectorAll("main img").length, alerts: window.alerts})`, &bad)
		if bad.Images != 0 || bad.Alerts != 0 {
			t.Errorf("%s: %d images and %d alerts from a patient's name, want none", where, bad.Images, bad.Alerts)
		}
	}
	asText("Today")

	b.js(`document.querySelector("#export").click(); true`, nil)
	var file string
	for deadline := time.Now().Add(10 * time.Second); file == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		names, _ := filepath.Glob(filepath.Join(downloads, "*.csv"))
		if len(names) > 0 {
			file = names[0]
		}
	}
	if file == "" {
		t.Fatal("the day sheet was not downloaded")
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatalf("the downloaded day sheet: %v\n%s", err, raw)
	}
	if len(rows) != 3 {
		t.Fatalf("the day sheet has %d rows, want a header and two bookings:\n%s", len(rows), raw)
	}
	var patients []string
	for _, row := range rows[1:] {
		for _, c := range row {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("a cell a spreadsheet reads as a formula: %q", c)
			}
		}
		patients = append(patients, row[3])
	}
	if want := []string{"Lopez, " + markup, "'" + formula + ", Ana"}; strings.Join(patients, "|") != strings.Join(want, "|") {
		t.Errorf("the day sheet's patients: %q, want %q", patients, want)
	}

	b.do(chromedp.Navigate(e.URL + "/desk/find?q=" + "lopez"))
	b.wait("the search", `document.querySelector("#patients [data-patient-id]")`)
	b.js(`window.alerts = 0; window.alert = () => { window.alerts++ }; true`, nil)
	b.js(`(() => { const q = document.querySelector("#q"); q.value = "424555"; q.dispatchEvent(new Event("input")); return true })()`, nil)
	asText("Find")
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// TestDeskNoShowAndRevert: the morning's missing steps: a patient who did
// not come is marked a no-show from Today, and the mistake undone with a
// reason.
func TestDeskNoShowAndRevert(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t, sqliteURL(t), soonOpts)
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	soon := time.Now().Add(time.Hour).Truncate(time.Minute)
	ana := k.request(t, k.slot(t, slotOpts{start: soon}))
	if r := e.act(t, ana.ID, "confirm", nil); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	e.travelTo(soon.Add(10 * time.Minute)) // the appointment has begun

	b.do(chromedp.Navigate(e.URL + "/desk/today"))
	b.deskSignIn("rita@clinic.example", "a long password 1")
	b.deskDay(laDay(t, soon))
	b.wait("the booking", deskRow(ana.ID)+`.dataset.status === "confirmed"`)
	b.js(deskRow(ana.ID)+`.querySelector('button[data-action="no-show"]').click()`, nil)
	b.waitWithin(10*time.Second, "marked a no-show", deskRow(ana.ID)+`.dataset.status === "no_show" && `+deskRow(ana.ID)+`.querySelector('[data-status-label]').textContent === "No-show"`)
	if got := bookingStatus(t, e, ana.ID); got != "no_show" {
		t.Errorf("after no-show: the server says %q", got)
	}
	b.js(deskRow(ana.ID)+`.querySelector('button[data-action="revert"]').click()`, nil)
	b.wait("the reason form", `document.activeElement.name === "reason"`)
	b.do(chromedp.KeyEvent("She was in the waiting room"))
	b.js(deskRow(ana.ID)+`.querySelector("form.reason").requestSubmit(); true`, nil)
	b.waitWithin(10*time.Second, "reverted", deskRow(ana.ID)+`.dataset.status === "confirmed" && `+deskRow(ana.ID)+`.querySelector('button[data-action="no-show"]')`)
	if got := bookingStatus(t, e, ana.ID); got != "confirmed" {
		t.Errorf("after revert: the server says %q", got)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// TestDeskCallerMatchShowsVisits: typing a caller's number on Book a
// caller shows the patient on file with their earlier visits and the day
// of the last one (from the patient search itself), in English and
// Spanish.
func TestDeskCallerMatchShowsVisits(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t, sqliteURL(t), soonOpts)
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	soon := time.Now().Add(time.Hour).Truncate(time.Minute)
	ana := k.request(t, k.slot(t, slotOpts{start: soon}))
	for _, a := range []string{"confirm", "check-in"} {
		if r := e.act(t, ana.ID, a, nil); r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", a, r.Status, r.Body)
		}
	}
	k.request(t, k.slot(t, slotOpts{})) // a later request: not a visit
	day := laDay(t, soon)

	b.do(chromedp.Navigate(e.URL + "/desk/book"))
	b.deskSignIn("rita@clinic.example", "a long password 1")
	for _, c := range []struct{ lang, want string }{
		{"en", "On file: Ana Lopez, born 1980-04-02, 1 earlier visit, the last on " + day + "."},
		{"es", "En el registro: Ana Lopez, nacido/a el 1980-04-02, 1 visita anterior, la última el " + day + "."},
	} {
		b.js(`(() => { const l = document.querySelector("#lang"); l.value = `+jsString(c.lang)+`; l.dispatchEvent(new Event("change")); return true })()`, nil)
		b.wait("the book screen in "+c.lang, `document.documentElement.lang === `+jsString(c.lang)+` && document.querySelector("form.book")`)
		b.js(`document.querySelector('input[name="patient.phone"]').focus()`, nil)
		b.do(chromedp.KeyEvent("(424) 555-0123"))
		b.wait("the patient on file in "+c.lang, `document.querySelector(".match").textContent.includes(`+jsString(c.want)+`)`)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
