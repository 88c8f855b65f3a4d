package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// The reception desk in a real headless Chromium against a real server: a
// receptionist's morning, from sign-in to sign-out, with axe-core on every
// screen.

// deskRow is the expression of the element of one booking on the desk.
func deskRow(id string) string {
	return `document.querySelector('[data-booking-id=` + jsString(id) + `]')`
}

// waitWithin polls expr until it is truthy, failing the test after d.
func (b *browser) waitWithin(d time.Duration, what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	safe := `(() => { try { return !!(` + expr + `) } catch (e) { return false } })()`
	var err error
	for {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](safe, chromedp.WithPollingInterval(25*time.Millisecond)))
		// A navigation (a sign-out, a reload) that ends the page the poll
		// ran in is not an answer: poll the new page until the deadline.
		if err == nil || ctx.Err() != nil || !pageGone(err) {
			break
		}
	}
	if err != nil {
		html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`"messages: " + [...document.querySelectorAll(".error, .problem, #status")].filter(x => x.textContent).map(x => x.id + "=" + x.textContent).join("; ") +
			" | focus: " + (document.activeElement && document.activeElement.outerHTML.slice(0, 200)) + " | main: " + document.querySelector("main").innerHTML.slice(-2500)`))
		b.t.Fatalf("waiting %s for %s: %v\npage: %.3000s\nconsole: %v", d, what, err, html, b.consoleErrors())
	}
}

// pageGone reports whether err says the page a script ran in was replaced
// by a navigation meanwhile.
func pageGone(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Cannot find context with specified id") || strings.Contains(msg, "Execution context was destroyed")
}

func TestDeskInBrowser(t *testing.T) {
	b := newDeskBrowser(t)
	axeJS := axeScript(t)
	axe := string(axeJS)
	// The accounts' clock, moved on to expire the desk's access token.
	var skew atomic.Int64
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, ao *auth.Options) {
		ao.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		o.PublicRateLimit = 0
		o.Policy.MinNotice = 0 // a request for within the hour, so that it can be checked in today
	})
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	soon := time.Now().Add(time.Hour).Truncate(time.Minute)
	mine := k.slot(t, slotOpts{start: soon})
	// Another patient, confirmed, days ahead: too early to check in.
	later := with(with(with(requestBody(k.slot(t, slotOpts{typeID: k.instant})), "patient.phone", "+14245559876"), "patient.last_name", "Kim"), "patient.email", "kim@example.com")
	var early created
	if r := e.do("POST", "/v1/booking-requests", later); r.Status != http.StatusCreated {
		t.Fatalf("booking request: %d %s", r.Status, r.Body)
	} else {
		r.decode(t, &early)
	}
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}

	// 1. Sign in on a screen's own URL: the desk opens that screen.
	b.do(chromedp.Navigate(e.URL + "/desk/requests"))
	b.wait("the sign-in form", `document.querySelector('input[name="email"]') && document.querySelector('input[name="password"]')`)
	b.axe(axe, "sign-in")
	b.js(`(() => { const f = document.querySelector("form.signin"); f.email.value = "rita@clinic.example"; f.password.value = "a long password 1";
		f.requestSubmit(); return true })()`, nil)
	b.wait("the requests screen", `document.querySelector("#screen-title") && document.querySelector("#list .empty")`)
	var path string
	b.js(`location.pathname`, &path)
	if path != "/desk/requests" {
		t.Errorf("after sign-in: at %q, want /desk/requests", path)
	}
	var stored int
	b.js(`localStorage.length + sessionStorage.length`, &stored)
	if stored != 0 {
		t.Errorf("the desk wrote %d items to web storage, want none", stored)
	}

	// 2. A request made on the website appears live, without a reload.
	req := k.request(t, mine)
	b.waitWithin(2*time.Second, "the new request on Requests", deskRow(req.ID)+`.dataset.status === "pending"`)
	// A second one, urgent by its red flags: it appears too, and first.
	urgentBody := with(with(with(with(requestBody(k.slot(t, slotOpts{})), "patient.phone", "+14245554444"), "patient.last_name", "Ruiz"), "patient.email", "ruiz@example.com"),
		"intake.red_flags", []string{"cancer_history"})
	var urgent created
	if r := e.do("POST", "/v1/booking-requests", urgentBody); r.Status != http.StatusCreated {
		t.Fatalf("urgent booking request: %d %s", r.Status, r.Body)
	} else {
		r.decode(t, &urgent)
	}
	b.waitWithin(2*time.Second, "the urgent request first on Requests",
		`document.querySelector("#list [data-booking-id]") === `+deskRow(urgent.ID)+` && `+deskRow(urgent.ID)+`.dataset.triage === "urgent"`)
	b.shot("desk-requests")

	b.axe(axe, "requests")

	// Spanish, by the switch (the browser's language picks it on load).
	b.js(`(() => { const l = document.querySelector("#lang"); l.value = "es"; l.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("Spanish", `document.documentElement.lang === "es" && document.querySelector('nav a[data-screen="today"]').textContent === "Hoy" && `+
		deskRow(req.ID)+`.querySelector('button[data-action="confirm"]').textContent === "Confirmar"`)
	b.axe(axe, "requests in Spanish")
	b.js(`(() => { const l = document.querySelector("#lang"); l.value = "en"; l.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("English again", `document.documentElement.lang === "en" && `+deskRow(req.ID))

	// 3. Confirm it, with an access token that expired meanwhile: the desk
	// refreshes it once (the cookie) and the confirmation goes through.
	skew.Store(int64(20 * time.Minute))
	b.js(deskRow(req.ID)+`.querySelector('button[data-action="confirm"]').click()`, nil)
	b.wait("the confirmation said", `document.querySelector("#status").textContent.includes(`+jsString(req.Reference)+`)`)
	if got := bookingStatus(t, e, req.ID); got != "confirmed" {
		t.Errorf("after confirm: the server says %q, want confirmed", got)
	}
	var signIn bool
	b.js(`!!document.querySelector('input[name="password"]')`, &signIn)
	if signIn {
		t.Error("an expired access token sent the desk back to sign-in")
	}

	// 4. Today: the day of the booking at its location; check it in.
	b.js(`document.querySelector('nav a[data-screen="today"]').click()`, nil)
	b.wait("the today screen", `location.pathname === "/desk/today" && document.querySelector('input[type="date"]')`)
	day := soon.In(la).Format(time.DateOnly)
	b.js(`(() => { const d = document.querySelector('input[type="date"]'); d.value = `+jsString(day)+`; d.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the confirmed booking on Today", deskRow(req.ID)+`.dataset.status === "confirmed"`)
	b.axe(axe, "today")
	b.js(deskRow(req.ID)+`.querySelector('button[data-action="check-in"]').click()`, nil)
	b.wait("checked in", deskRow(req.ID)+`.dataset.status === "checked_in"`)
	if got := bookingStatus(t, e, req.ID); got != "checked_in" {
		t.Errorf("after check-in: the server says %q, want checked_in", got)
	}
	b.shot("desk-today")
	b.js(`document.querySelector("#export").click()`, nil)
	b.wait("the day sheet exported", `document.querySelector("#status").textContent === "The day sheet is downloaded."`)

	// Undo it, with a reason (a form on the booking), and check in again.
	b.js(deskRow(req.ID)+`.querySelector('button[data-action="revert"]').click()`, nil)
	b.wait("the reason form", `document.activeElement.name === "reason"`)
	b.do(chromedp.KeyEvent("Checked in the wrong Ana Lopez"))
	b.js(deskRow(req.ID)+`.querySelector("form.reason").requestSubmit(); true`, nil)
	b.waitWithin(10*time.Second, "reverted", deskRow(req.ID)+`.dataset.status === "confirmed"`)
	b.js(deskRow(req.ID)+`.querySelector('button[data-action="check-in"]').click()`, nil)
	b.wait("checked in again", deskRow(req.ID)+`.dataset.status === "checked_in"`)

	// A refusal shows the server's own explanation on the booking.
	earlyDay := k.startOf(t, uuid.MustParse(early.Slot.ID)).In(la).Format(time.DateOnly)
	b.js(`(() => { const d = document.querySelector('input[type="date"]'); d.value = `+jsString(earlyDay)+`; d.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the later booking", deskRow(early.ID)+`.dataset.status === "confirmed"`)
	b.js(deskRow(early.ID)+`.querySelector('button[data-action="check-in"]').click()`, nil)
	b.wait("the refusal's detail", deskRow(early.ID)+`.querySelector(".problem").textContent.length > 10`)
	var detail string
	b.js(deskRow(early.ID)+`.querySelector(".problem").textContent`, &detail)
	if got := bookingStatus(t, e, early.ID); got != "confirmed" || !strings.Contains(strings.ToLower(detail), "check") {
		t.Errorf("early check-in: status %q, message %q; want confirmed and the server's detail", got, detail)
	}

	// 5. Find: "/" focuses the search; phone digits typed with spaces.
	b.js(`document.activeElement.blur(); true`, nil)
	// One key press as a keyboard makes it (keyDown with its text), so the
	// page's preventDefault keeps the "/" out of the box.
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
		if err := call(b.ctx, input.DispatchKeyEvent, input.DispatchKeyEventParams{Type: typ, Key: "/", Code: "Slash", Text: map[bool]string{true: "/"}[typ == input.DispatchKeyEventTypeKeyDown], WindowsVirtualKeyCode: 191}); err != nil {
			t.Fatal(err)
		}
	}
	var focused struct{ Name, Value string }
	b.js(`({name: document.activeElement.name, value: document.activeElement.value})`, &focused)
	if focused.Name != "q" || focused.Value != "" {
		t.Fatalf("after /: focus on %q holding %q, want the empty search box", focused.Name, focused.Value)
	}
	b.do(chromedp.KeyEvent("555 0123"))
	b.wait("the booking found", `location.pathname === "/desk/find" && `+deskRow(req.ID)+` && !`+deskRow(early.ID))
	b.wait("the patient on file found too", `document.querySelector("#patients [data-patient-id]") && document.querySelector("#patients").textContent.includes("Ana Lopez")`)
	b.axe(axe, "find")
	b.shot("desk-find")
	// A date of birth, in the form the server stores and as a caller reads
	// it out, day or month first.
	setQ := func(q string) {
		b.js(`(() => { const q = document.querySelector("#q"); q.value = `+jsString(q)+`; q.dispatchEvent(new Event("input")); return true })()`, nil)
	}
	for _, dob := range []string{"1980-04-02", "04/02/1980", "2.4.1980"} {
		setQ("nobody")
		b.wait("no patient for nobody", `new URLSearchParams(location.search).get("q") === "nobody" && !document.querySelector("#patients [data-patient-id]")`)
		setQ(dob)
		b.wait("the patient found by date of birth "+dob, `new URLSearchParams(location.search).get("q") === `+jsString(dob)+
			` && document.querySelector("#patients [data-patient-id]") && document.querySelector("#patients").textContent.includes("Ana Lopez")`)
	}
	setQ("555 0123")
	b.wait("the phone search again", `new URLSearchParams(location.search).get("q") === "555 0123" && `+deskRow(req.ID))

	// 6. Reload: still signed in, on the same search.
	b.do(chromedp.Reload())
	b.wait("the search again after a reload", deskRow(req.ID)+` && !document.querySelector('input[name="password"]')`)

	// 7. Sign out: the refresh cookie is spent.
	jar, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.URL + "/v1/auth/refresh"}})
	if err != nil {
		t.Fatal(err)
	}
	var refresh string
	for _, c := range jar.Cookies {
		if c.Name == "__Secure-refresh" {
			refresh = c.Value
			if !c.HTTPOnly {
				t.Error("the refresh cookie is readable by scripts")
			}
		}
	}
	if refresh == "" {
		t.Fatal("no refresh cookie in the browser")
	}
	b.js(`document.querySelector("#signout").click()`, nil)
	b.wait("the sign-in form after sign-out", `document.querySelector('input[name="email"]')`)
	r := e.do("POST", "/v1/auth/refresh", nil, "Cookie: __Secure-refresh="+refresh, "X-Requested-With: fetch", "Origin: "+e.URL)
	if r.Status != http.StatusUnauthorized {
		t.Errorf("refresh with the cookie after sign-out: got %d %s, want 401", r.Status, r.Body)
	}
	b.do(chromedp.Reload())
	b.wait("signed out after a reload", `document.querySelector('input[name="email"]')`)

	// 8. A clinician: the day sheet and its actions, not the requests.
	e.newAccount(auth.RoleClinician, "cleo@clinic.example", "a long password 2")
	b.do(chromedp.Navigate(e.URL + "/desk/requests"))
	b.wait("the sign-in form", `document.querySelector('input[name="email"]')`)
	b.js(`(() => { const f = document.querySelector("form.signin"); f.email.value = "cleo@clinic.example"; f.password.value = "a long password 2";
		f.requestSubmit(); return true })()`, nil)
	b.wait("the clinician on Today", `location.pathname === "/desk/today" && document.querySelector("#screen-title")`)
	b.js(`(() => { const d = document.querySelector('input[type="date"]'); d.value = `+jsString(earlyDay)+`; d.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the later booking for the clinician", deskRow(early.ID))
	var offered []string
	b.js(`[...document.querySelectorAll('nav a[data-screen="requests"], [data-action="cancel"], [data-action="confirm"], [data-action="check-in"]')].map(x => x.dataset.screen || x.dataset.action)`, &offered)
	if strings.Join(offered, ",") != "check-in" {
		t.Errorf("a clinician is offered %v, want only check-in", offered)
	}

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
	b.origins(e.URL)
}

// bookingStatus reads a booking's status as a staff member sees it.
func bookingStatus(t *testing.T, e *env, id string) string {
	t.Helper()
	r := e.do("GET", "/v1/bookings/"+id, nil, e.token(auth.RoleReception))
	if r.Status != http.StatusOK {
		t.Fatalf("get booking: %d %s", r.Status, r.Body)
	}
	var bk staffBooking
	r.decode(t, &bk)
	return bk.Status
}

// deskSignIn fills in and sends the desk's sign-in form.
func (b *browser) deskSignIn(email, password string) {
	b.t.Helper()
	// waitWithin: a sign-out just before may still be replacing the page.
	b.waitWithin(15*time.Second, "the sign-in form", `document.querySelector('input[name="email"]') && document.querySelector('input[name="password"]')`)
	b.js(`(() => { const f = document.querySelector("form.signin"); f.email.value = `+jsString(email)+`; f.password.value = `+jsString(password)+`;
		f.requestSubmit(); return true })()`, nil)
	b.wait("signed in", `document.querySelector("#screen-title")`)
}

// TestDeskBooksACaller: on Book a caller, a receptionist picks a type and
// one of its next free times, types the caller's number and is shown the
// patient on file, takes the red-flag answer and the consent by phone,
// and books; a missing consent is shown next to its box first.
func TestDeskBooksACaller(t *testing.T) {
	b := newDeskBrowser(t)
	axeJS := axeScript(t)
	e := newEnv(t, sqliteURL(t), noRateLimit)
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	k.request(t, k.slot(t, slotOpts{})) // Ana Lopez, on file
	free := k.slot(t, slotOpts{typeID: k.instant})
	moveTo := k.slot(t, slotOpts{typeID: k.instant})

	b.do(chromedp.Navigate(e.URL + "/desk/book"))
	b.deskSignIn("rita@clinic.example", "a long password 1")
	b.wait("the book screen", `location.pathname === "/desk/book" && document.querySelector("form.book")`)
	b.js(`(() => { const s = document.querySelector('select[name="consultation_type_id"]'); s.value = `+jsString(k.instant.String())+`;
		s.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the next free time", `document.querySelector('input[name="slot_id"][value=`+jsString(free.String())+`]')`)
	b.js(`document.querySelector('input[name="slot_id"][value=`+jsString(free.String())+`]').click()`, nil)
	b.js(`document.querySelector('input[name="patient.phone"]').focus()`, nil)
	b.do(chromedp.KeyEvent("(424) 555-0123"))
	b.wait("the patient on file", `document.querySelector(".match").textContent.includes("Ana Lopez, born 1980-04-02, 0 earlier visits.")`)
	b.js(`document.querySelector("[data-use-patient]").click()`, nil)
	var names []string
	b.js(`["patient.first_name", "patient.last_name", "patient.date_of_birth", "patient.phone"].map(n => document.querySelector('[name="' + n + '"]').value)`, &names)
	if strings.Join(names, ",") != "Ana,Lopez,1980-04-02,+14245550123" {
		t.Errorf("after using the patient on file: %v, want Ana, Lopez, 1980-04-02, +14245550123", names)
	}
	b.js(`document.querySelector('input[name="intake.red_flags"][value="none"]').click()`, nil)
	b.axe(string(axeJS), "book a caller")

	// Without the consent: the server's message next to the box.
	b.js(`document.querySelector("form.book").requestSubmit(); true`, nil)
	b.waitWithin(10*time.Second, "the consent's error", `document.querySelector('#err-bk-consent').textContent !== "" && document.activeElement.id === "bk-consent"`)
	// The caller speaks Spanish; the desk is in English.
	b.js(`(() => { const l = document.querySelector("#bk-locale"); l.value = "es"; return true })()`, nil)
	b.js(`document.querySelector('#bk-consent').click(); document.querySelector("form.book").requestSubmit(); true`, nil)
	b.wait("the booking found", `location.pathname === "/desk/find" && document.querySelector('[data-booking-id][data-status="confirmed"]')`)
	var id string
	b.js(`document.querySelector("[data-booking-id]").dataset.bookingId`, &id)
	r := e.do("GET", "/v1/bookings/"+id, nil, e.token(auth.RoleReception))
	var got struct {
		Source       string          `json:"source"`
		Locale       string          `json:"locale"`
		PhoneConsent json.RawMessage `json:"phone_consent"`
		Slot         struct {
			ID string `json:"id"`
		} `json:"slot"`
	}
	r.decode(t, &got)
	if got.Source != "phone" || got.Slot.ID != free.String() || string(got.PhoneConsent) == "null" || len(got.PhoneConsent) == 0 {
		t.Errorf("the booking: source %q slot %s phone consent %s; want phone, %s, recorded", got.Source, got.Slot.ID, got.PhoneConsent, free)
	}
	if got.Locale != "es" {
		t.Errorf("the booking's language: got %q, want es (the caller's, chosen on the form)", got.Locale)
	}
	b.shot("desk-book")

	// Reschedule it from the booking: the next free times of its type.
	b.js(deskRow(id)+`.querySelector('button[data-action="reschedule"]').click()`, nil)
	b.wait("the free times to move to", deskRow(id)+`.querySelector('input[name="slot_id"][value=`+jsString(moveTo.String())+`]')`)
	b.js(deskRow(id)+`.querySelector('input[name="slot_id"][value=`+jsString(moveTo.String())+`]').click(); `+deskRow(id)+`.querySelector("form.reason").requestSubmit(); true`, nil)
	b.wait("rescheduled", `document.querySelector("#status").textContent.startsWith("Done")`)
	r = e.do("GET", "/v1/bookings/"+id, nil, e.token(auth.RoleReception))
	r.decode(t, &got)
	if got.Slot.ID != moveTo.String() {
		t.Errorf("after reschedule: slot %s, want %s", got.Slot.ID, moveTo)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
