package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/mailpit"
)

// newDeskBrowser is newBrowser with its screenshots written to
// DESK_SCREENSHOTS when it is set (CI keeps them as artifacts).
func newDeskBrowser(t *testing.T) *browser {
	t.Helper()
	b := newBrowser(t)
	if dir := os.Getenv("DESK_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		b.shots = dir
	}
	return b
}

// viewport sets the page's size, as a screen of that size shows it.
func (b *browser) viewport(width, height int64) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(width, height))
}

// shotViewport writes a screenshot of what the viewport shows (not the
// whole page) as name.png, and returns its path.
func (b *browser) shotViewport(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	b.n++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// noSideScroll fails the test when the page is wider than its viewport.
func (b *browser) noSideScroll(screen string) {
	b.t.Helper()
	var w struct{ Scroll, Client int }
	b.js(`({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})`, &w)
	if w.Scroll > w.Client {
		b.t.Errorf("%s: the page is %d px wide in a %d px viewport", screen, w.Scroll, w.Client)
	}
}

func (b *browser) deskNav(screen string) {
	b.t.Helper()
	b.js(`document.querySelector('nav a[data-screen=`+jsString(screen)+`]').click(); true`, nil)
	b.wait("the "+screen+" screen", `location.pathname === "/desk/`+screen+`" && document.querySelector("#screen-title")`)
}

// TestDeskRecordsMessagesWaitlist: the desk's screens beyond the morning's
// round. A patient's emails fail (the mail server is down); on Messages
// the receptionist retries one once it is back, opens the patient's record
// from it and retries the other there; on Waitlist she offers one entry a
// time by hand and removes another; on Today a 60-appointment day is
// filtered by provider and shown by hour, where a patient checks in. Each
// screen passes axe at 1280x800 and fits a 768 px tablet.
func TestDeskRecordsMessagesWaitlist(t *testing.T) {
	bin := mailpit.BinaryFor(t)
	axeJS := axeScript(t)
	axe := string(axeJS)
	port, err := mailpit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWithMessages(t, sqliteURL(t), port, func(o *httpapi.Options, _ *auth.Options) {
		o.PublicRateLimit = 0
		o.Policy.MinNotice = 0 // a booking within the hour, to check in today
	})
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}

	// Ana: a request to review, then a booking within the hour; both
	// emails fail.
	first := k.request(t, k.slot(t, slotOpts{}))
	soon := time.Now().Add(time.Hour).Truncate(time.Minute)
	second := k.request(t, k.slot(t, slotOpts{start: soon, typeID: k.instant}))
	waitFor(t, 30*time.Second, "Ana's two emails to fail", func() bool {
		return len(listMessages(t, e, auth.RoleReception, "status=failed")) == 2
	})
	failed := map[string]int64{}
	for _, m := range listMessages(t, e, auth.RoleReception, "status=failed") {
		failed[m.BookingID] = m.ID
	}

	// Two on the waitlist, and a free time to offer by hand.
	wlOffer := k.join(t, with(waitlistBody(k.reviewed, "+14245557001", "lee@example.com"), "patient.last_name", "Lee"))
	wlRemove := k.join(t, with(waitlistBody(k.reviewed, "+14245557002", "moss@example.com"), "patient.last_name", "Moss"))
	offerSlot := k.slot(t, slotOpts{}) // after the joins: a join is offered a free time at once

	// A busy day five days ahead: 60 appointments over ten hours, the
	// last hour's with the second provider; no email for them.
	day := time.Now().In(la).AddDate(0, 0, 5)
	busy := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, la)
	for h := range 10 {
		o := slotOpts{start: busy.Add(time.Duration(h) * time.Hour), capacity: 6, typeID: k.instant}
		if h == 9 {
			o.provider = k.provider2
		}
		sl := k.slot(t, o)
		for i := range 6 {
			body := requestBody(sl)
			for path, v := range map[string]any{"patient.phone": fmt.Sprintf("+1424556%02d%02d", h, i), "patient.first_name": []string{"Bea", "Carl", "Dora", "Eli", "Fay", "Gus"}[i],
				"patient.last_name": []string{"Moreno", "Garcia", "Chen", "Okafor", "Novak", "Silva", "Haddad", "Kowalski", "Nguyen", "Brennan"}[h], "patient.date_of_birth": fmt.Sprintf("19%02d-0%d-1%d", 50+h, i+1, h), "patient.email": remove, "consent.contact_by_email": false} {
				body = with(body, path, v)
			}
			if r := e.do("POST", "/v1/booking-requests", body); r.Status != http.StatusCreated {
				t.Fatalf("busy day booking %d-%d: %d %s", h, i, r.Status, r.Body)
			}
		}
	}

	b := newDeskBrowser(t)
	b.viewport(1280, 800)

	// 1. Messages: the two failed emails, newest first; the mail server
	// comes back and one is retried.
	b.do(chromedp.Navigate(e.URL + "/desk/messages"))
	b.deskSignIn("rita@clinic.example", "a long password 1")
	msgRow := func(id int64) string { return fmt.Sprintf(`document.querySelector('li[data-message-id="%d"]')`, id) }
	b.wait("the failed messages", msgRow(failed[first.ID])+`.dataset.status === "failed" && `+msgRow(failed[second.ID])+`.querySelector('[data-patient-link]')`)
	var order []string
	b.js(`[...document.querySelectorAll("#messages [data-message-id]")].map(x => x.dataset.messageId)`, &order)
	if want := []string{fmt.Sprint(failed[second.ID]), fmt.Sprint(failed[first.ID])}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("failed messages in the order %v, want newest first %v", order, want)
	}
	// Each names its booking: the patient (a link to the record), the
	// reference and the appointment's time, from the list itself.
	for _, bk := range []created{first, second} {
		var meta struct{ Ref, Text, Link string }
		b.js(`(() => { const m = `+msgRow(failed[bk.ID])+`.querySelector("[data-booking-ref]"); return {ref: m.dataset.bookingRef, text: m.textContent,
			link: m.querySelector("[data-patient-link]").textContent} })()`, &meta)
		if meta.Ref != bk.Reference || !strings.Contains(meta.Text, bk.Reference) || !strings.Contains(meta.Text, "appointment ") || meta.Link != "Ana Lopez" {
			t.Errorf("the failed message about %s shows %+v, want its reference, the appointment's time and a link to Ana Lopez's record", bk.Reference, meta)
		}
	}
	// One request for the page: no booking read per message.
	b.mu.Lock()
	var reads []string
	for _, u := range b.requests {
		if strings.Contains(u, "/v1/bookings/") {
			reads = append(reads, u)
		}
	}
	b.mu.Unlock()
	if len(reads) > 0 {
		t.Errorf("Messages read %d bookings one by one (%v), want none: the list carries them", len(reads), reads)
	}
	b.axe(axe, "messages")
	b.shot("desk-messages")
	mp, err := mailpit.StartAt(bin, t.TempDir(), port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mp.Stop)
	b.js(msgRow(failed[second.ID])+`.querySelector('button[data-action="retry"]').click(); true`, nil)
	b.wait("the message queued again", msgRow(failed[second.ID])+`.dataset.status !== "failed" && !`+msgRow(failed[second.ID])+`.querySelector('[data-action="retry"]')`)
	// The receptionist is told which message, for whom, as the row says it.
	b.wait("the retry said for whom", `document.getElementById("status").textContent.includes("is queued again") && document.getElementById("status").textContent.includes("Ana Lopez") && document.getElementById("status").textContent.startsWith("Email: ")`)
	// It stays on the list, and is shown sent once it is, without a reload.
	b.waitWithin(20*time.Second, "the retried message shown sent", msgRow(failed[second.ID])+`.dataset.status === "sent"`)
	waitFor(t, 20*time.Second, "the retried email sent", func() bool {
		for _, m := range listMessages(t, e, auth.RoleReception, "status=sent") {
			if m.ID == failed[second.ID] {
				return true
			}
		}
		return false
	})

	// 2. The patient's record, from the message: details, both bookings
	// newest first, both messages; the other failed one is retried here.
	b.js(msgRow(failed[first.ID])+`.querySelector('[data-patient-link]').click(); true`, nil)
	b.waitWithin(15*time.Second, "Ana's record", `location.pathname === "/desk/patient" && document.querySelector("#screen-title").textContent === "Ana Lopez" && `+
		`document.querySelectorAll("#list [data-booking-id]").length === 2 && document.querySelectorAll("#messages [data-message-id]").length === 2`)
	var bookings []string
	b.js(`[...document.querySelectorAll("#list [data-booking-id]")].map(x => x.dataset.bookingId)`, &bookings)
	if strings.Join(bookings, ",") != second.ID+","+first.ID {
		t.Errorf("the record's bookings: %v, want newest first %s, %s", bookings, second.ID, first.ID)
	}
	var details string
	b.js(`document.querySelector("#details").textContent`, &details)
	if !strings.Contains(details, "1980-04-02") || !strings.Contains(details, "+14245550123") {
		t.Errorf("the record's details %q, want the date of birth and the phone", details)
	}
	var actions []string
	b.js(deskRow(first.ID)+` && [...`+deskRow(first.ID)+`.querySelectorAll("button[data-action]")].map(x => x.dataset.action)`, &actions)
	if strings.Join(actions, ",") != "confirm,decline,reschedule,cancel" {
		t.Errorf("the pending booking on the record offers %v, want confirm, decline, reschedule, cancel", actions)
	}
	b.axe(axe, "patient record")
	b.shot("desk-patient")
	b.js(msgRow(failed[first.ID])+`.querySelector('button[data-action="retry"]').click(); true`, nil)
	b.wait("the other message queued again", msgRow(failed[first.ID])+`.dataset.status !== "failed"`)
	waitFor(t, 20*time.Second, "both emails sent", func() bool {
		return len(listMessages(t, e, auth.RoleReception, "status=sent")) >= 2 && len(listMessages(t, e, auth.RoleReception, "status=failed")) == 0
	})
	b.waitWithin(20*time.Second, "the message retried on the record shown sent", msgRow(failed[first.ID])+`.dataset.status === "sent"`)
	// The mail server goes down again; the request confirmed by keyboard
	// (the row focused, c): its email appears and fails on the record, live.
	mp.Stop()
	b.js(deskRow(first.ID)+`.focus(); true`, nil)
	b.press("c")
	b.wait("the request confirmed", deskRow(first.ID)+`.dataset.status === "confirmed"`)
	confirmedFailed := `[...document.querySelectorAll("#messages [data-message-id]")].some(m => m.dataset.bookingIdRef === ` + jsString(first.ID) +
		` && m.dataset.status === "failed" && m.textContent.includes("Booking confirmed") && m.querySelector('[data-action="retry"]'))`
	b.waitWithin(20*time.Second, "the confirmation email shown failed on the record", confirmedFailed)

	// The record from Find too: the patient found by name.
	b.js(`(() => { const q = document.querySelector("#q"); q.value = "Lopez"; q.dispatchEvent(new Event("input")); return true })()`, nil)
	b.wait("Ana found", `location.pathname === "/desk/find" && document.querySelector('#patients [data-patient-link]')`)
	b.js(`document.querySelector('#patients [data-patient-link]').click(); true`, nil)
	b.wait("Ana's record from Find", `location.pathname === "/desk/patient" && document.querySelector("#screen-title").textContent === "Ana Lopez" && `+deskRow(first.ID))

	// 3. Waitlist: offer Lee the free time by hand; remove Moss.
	b.deskNav("waitlist")
	wlRow := func(id string) string { return `document.querySelector('li[data-waitlist-id=` + jsString(id) + `]')` }
	b.wait("the waiting entries", wlRow(wlOffer.ID)+`.dataset.status === "waiting" && `+wlRow(wlRemove.ID))
	b.axe(axe, "waitlist")
	b.shot("desk-waitlist")
	b.js(wlRow(wlOffer.ID)+`.querySelector('button[data-action="offer"]').click(); true`, nil)
	b.wait("the free times to offer", wlRow(wlOffer.ID)+`.querySelector('input[name="slot_id"][value=`+jsString(offerSlot.String())+`]')`)
	b.axe(axe, "waitlist offer form")
	b.js(wlRow(wlOffer.ID)+`.querySelector('input[name="slot_id"][value=`+jsString(offerSlot.String())+`]').click(); `+wlRow(wlOffer.ID)+`.querySelector("form.reason").requestSubmit(); true`, nil)
	b.wait("the offer said", `document.querySelector("#status").textContent.includes(`+jsString(wlOffer.Reference)+`)`)
	var entry entryJSON
	if r := e.do("GET", "/v1/waitlist?status=offered", nil, e.token(auth.RoleReception)); r.Status == http.StatusOK {
		var page struct{ Items []entryJSON }
		r.decode(t, &page)
		for _, it := range page.Items {
			if it.ID == wlOffer.ID {
				entry = it
			}
		}
	}
	if entry.Status != "offered" || entry.Offer == nil || entry.Offer.SlotID != offerSlot.String() {
		t.Errorf("after the offer by hand: %+v, want offered %s", entry, offerSlot)
	}
	b.js(`(() => { const s = document.querySelector("#wl-status"); s.value = ""; s.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the offer shown on the entry", wlRow(wlOffer.ID)+`.dataset.status === "offered" && `+wlRow(wlOffer.ID)+`.querySelector('[data-offer-slot=`+jsString(offerSlot.String())+`]')`)
	b.js(wlRow(wlRemove.ID)+`.querySelector('button[data-action="remove"]').click(); true`, nil)
	b.wait("the removal to confirm", `document.activeElement.dataset.confirm === "remove"`)
	b.js(`document.activeElement.click(); true`, nil)
	b.wait("removed", wlRow(wlRemove.ID)+`.dataset.status === "left" && !`+wlRow(wlRemove.ID)+`.querySelector('[data-action="remove"]')`)
	if r := e.do("GET", "/v1/waitlist?status=left", nil, e.token(auth.RoleReception)); !strings.Contains(string(r.Body), wlRemove.ID) {
		t.Errorf("after remove: the left entries are %s, want %s among them", r.Body, wlRemove.ID)
	}
	// Spanish on the new screen.
	b.js(`(() => { const l = document.querySelector("#lang"); l.value = "es"; l.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the waitlist in Spanish", `document.querySelector("#screen-title").textContent === "Lista de espera" && `+wlRow(wlOffer.ID)+`.textContent.includes("Ofrecida")`)
	b.axe(axe, "waitlist in Spanish")
	b.js(`(() => { const l = document.querySelector("#lang"); l.value = "en"; l.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("English again", `document.querySelector("#screen-title").textContent === "Waitlist"`)

	// 4. Today: the busy day, its render measured in the browser.
	b.deskNav("today")
	busyDay := busy.Format(time.DateOnly)
	b.js(`performance.clearMeasures(); performance.mark("test-change"); (() => { const d = document.querySelector('input[type="date"]'); d.value = `+jsString(busyDay)+`;
		d.dispatchEvent(new Event("change")); return true })()`, nil)
	b.waitWithin(10*time.Second, "the 60 appointments", `document.querySelectorAll("#list [data-booking-id]").length === 60`)
	var perf struct{ Render, Total float64 }
	b.js(`new Promise(ok => requestAnimationFrame(() => setTimeout(() => { const m = performance.getEntriesByName("desk-day-sheet", "measure");
		ok({render: m.length ? m[m.length - 1].duration : -1, total: performance.now() - performance.getEntriesByName("test-change")[0].startTime}) })))`, &perf)
	t.Logf("day sheet of 60 appointments in Chromium: %.1f ms to build the list (performance.measure desk-day-sheet), %.1f ms from the date change to the next frame (request included)", perf.Render, perf.Total)
	b.shot("desk-today-busy")
	// One provider: the last hour's six.
	b.js(`(() => { const s = document.querySelector("#provider"); s.value = `+jsString(k.provider2.String())+`; s.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the second provider's day", `document.querySelectorAll("#list [data-booking-id]").length === 6`)
	b.js(`(() => { const s = document.querySelector("#provider"); s.value = ""; s.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("every provider again", `document.querySelectorAll("#list [data-booking-id]").length === 60`)
	b.js(`document.querySelector('input[name="view"][value="hours"]').click(); true`, nil)
	b.wait("the day by hour", `document.querySelectorAll("#hours section.hour").length === 10 && document.querySelectorAll("#hours [data-booking-id]").length === 60 && document.querySelector("#list").children.length === 0`)
	b.axe(axe, "today by hour")
	b.shot("desk-today-by-hour")

	// Ana's day by hour: due, then arrived once checked in.
	b.js(`(() => { const d = document.querySelector('input[type="date"]'); d.value = `+jsString(soon.In(la).Format(time.DateOnly))+`; d.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("Ana due", `document.querySelector('#hours [data-part="due"] [data-booking-id=`+jsString(second.ID)+`]')`)
	var late bool
	b.js(`!!`+deskRow(second.ID)+`.querySelector("[data-late]")`, &late)
	if late {
		t.Error("Ana is shown running late an hour before her time")
	}
	// Five minutes past her time (the page's clock moved on): running late.
	b.js(`(() => { const real = Date.now; window.realNow = real; Date.now = () => `+fmt.Sprint(soon.Add(5*time.Minute).UnixMilli())+`;
		const d = document.querySelector('input[type="date"]'); d.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("Ana running late", `document.querySelector('#hours [data-part="due"] [data-booking-id=`+jsString(second.ID)+`] [data-late]')`)
	b.js(`Date.now = window.realNow; true`, nil)
	b.js(deskRow(second.ID)+`.querySelector('button[data-action="check-in"]').focus(); `+deskRow(second.ID)+`.querySelector('button[data-action="check-in"]').click(); true`, nil)
	b.wait("Ana arrived", `document.querySelector('#hours [data-part="arrived"] [data-booking-id=`+jsString(second.ID)+`]') && `+deskRow(second.ID)+`.dataset.status === "checked_in"`)
	if got := bookingStatus(t, e, second.ID); got != "checked_in" {
		t.Errorf("after check-in by hour: the server says %q, want checked_in", got)
	}
	// The record from a booking: the patient's name.
	b.js(deskRow(second.ID)+`.querySelector("[data-patient-link]").click(); true`, nil)
	b.wait("Ana's record from her booking", `location.pathname === "/desk/patient" && `+deskRow(second.ID)+`.dataset.status === "checked_in"`)
	b.deskNav("today")
	// The 1280x800 picture of Today (the README's).
	b.js(`(() => { const d = document.querySelector('input[type="date"]'); d.value = `+jsString(busyDay)+`; d.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the busy day by hour", `document.querySelectorAll("#hours [data-booking-id]").length === 60`)
	b.js(`document.querySelector('input[name="view"][value="list"]').click(); true`, nil)
	b.wait("the busy day as a list", `document.querySelectorAll("#list [data-booking-id]").length === 60`)
	b.js(`document.activeElement.blur(); document.querySelector("#status").textContent = ""; document.querySelector("#q").value = ""; window.scrollTo(0, 0); true`, nil)
	b.shotViewport("desk-today-1280x800")

	// Keyboard: the focus is visible where Tab puts it.
	b.js(`document.querySelector("#date").focus(); true`, nil)
	b.do(chromedp.KeyEvent("\t"))
	var outline string
	b.js(`getComputedStyle(document.activeElement).outlineStyle + " " + document.activeElement.tagName`, &outline)
	if strings.HasPrefix(outline, "none") {
		t.Errorf("the focused element after Tab has no outline: %s", outline)
	}

	// 5. A 768 px tablet: every screen fits without scrolling sideways.
	b.viewport(768, 1024)
	for _, s := range []struct{ name, path, ready string }{
		{"today", "/desk/today", `document.querySelector("#list [data-booking-id], #hours [data-booking-id], #list .empty")`},
		{"messages", "/desk/messages", `document.querySelector("#messages [data-message-id], #messages .empty")`},
		{"waitlist", "/desk/waitlist", `document.querySelector("#waitlist li")`},
		{"patient", "/desk/patient?id=" + patientOf(t, e, first.ID), `document.querySelectorAll("#list [data-booking-id]").length === 2`},
	} {
		b.do(chromedp.Navigate(e.URL + s.path))
		b.wait(s.path+" at 768 px", s.ready)
		b.noSideScroll(s.path + " at 768 px")
		b.axe(axe, s.path+" at 768 px")
		b.shot("desk-768-" + s.name)
	}

	// 6. A clinician: no Messages, no Waitlist, and a record without messages.
	e.newAccount(auth.RoleClinician, "cleo@clinic.example", "a long password 2")
	b.js(`document.querySelector("#signout").click(); true`, nil)
	// Signed out (the session ended on the server) before the next page
	// loads: a navigation at once could cut the sign-out short, and the
	// page would sign in again with the cookie.
	b.wait("signed out", `document.querySelector("form.signin")`)
	b.do(chromedp.Navigate(e.URL + "/desk/messages"))
	b.deskSignIn("cleo@clinic.example", "a long password 2")
	b.wait("the clinician sent to Today", `location.pathname === "/desk/today"`)
	var offered []string
	b.js(`[...document.querySelectorAll("nav a")].map(x => x.dataset.screen)`, &offered)
	if strings.Join(offered, ",") != "today,find" {
		t.Errorf("a clinician's menu: %v, want today, find", offered)
	}
	b.do(chromedp.Navigate(e.URL + "/desk/patient?id=" + patientOf(t, e, first.ID)))
	b.wait("the record for a clinician", `document.querySelectorAll("#list [data-booking-id]").length === 2`)
	var hasMessages bool
	b.js(`!!document.querySelector("#messages")`, &hasMessages)
	if hasMessages {
		t.Error("a clinician is shown the patient's messages")
	}

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
	b.origins(e.URL)
}

// patientOf is the id of a booking's patient record.
func patientOf(t *testing.T, e *env, bookingID string) string {
	t.Helper()
	var bk struct {
		PatientID string `json:"patient_id"`
	}
	e.do("GET", "/v1/bookings/"+bookingID, nil, e.token(auth.RoleReception)).decode(t, &bk)
	if _, err := uuid.Parse(bk.PatientID); err != nil {
		t.Fatalf("booking %s has no patient record: %q", bookingID, bk.PatientID)
	}
	return bk.PatientID
}
