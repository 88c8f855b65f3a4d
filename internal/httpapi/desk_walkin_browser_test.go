package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinic/consult/internal/auth"
)

// TestDeskBooksAWalkIn: the website does not offer a time that starts in
// 30 minutes (inside the 2-hour notice) nor one that started 10 minutes
// ago; Book a caller offers both, marked "within notice" and "started 10
// min ago" (in Spanish too), and books the first.
func TestDeskBooksAWalkIn(t *testing.T) {
	b := newDeskBrowser(t)
	axeJS := axeScript(t)
	e := newEnv(t, sqliteURL(t), noRateLimit)
	k := newClinic(t, e)
	e.newAccount(auth.RoleReception, "rita@clinic.example", "a long password 1")
	now := time.Now()
	soon := k.slot(t, slotOpts{start: now.Add(30 * time.Minute), typeID: k.instant})
	started := k.slot(t, slotOpts{start: now.Add(-10 * time.Minute), typeID: k.instant, provider: k.provider2})
	later := k.slot(t, slotOpts{typeID: k.instant})
	slotQ := func(id string) string {
		return `document.querySelector('input[name="slot_id"][value=` + jsString(id) + `]')`
	}
	chooseType := func() {
		b.js(`(() => { const s = document.querySelector('select[name="consultation_type_id"]'); s.value = `+jsString(k.instant.String())+`;
			s.dispatchEvent(new Event("change")); return true })()`, nil)
	}
	tag := func(id string) string {
		var s string
		b.js(`(() => { const t = `+slotQ(id)+`.closest("label").querySelector("[data-window]"); return t ? t.dataset.window + ": " + t.textContent : "" })()`, &s)
		return s
	}

	// The public widget: the later time, not the two inside the notice.
	b.do(chromedp.Navigate(e.URL + "/book?locale=en&consultation_type=" + k.instant.String()))
	b.wait("the widget's times", q(`[data-slot-id=`+jsString(later.String())+`]`)+` !== null`)
	var offered []string
	b.js(`[...`+shadow+`.querySelectorAll("[data-slot-id]")].map(x => x.dataset.slotId)`, &offered)
	if contains(offered, soon.String()) || contains(offered, started.String()) {
		t.Errorf("the widget offers %v, want neither %s (in 30 minutes) nor %s (started)", offered, soon, started)
	}

	// The desk offers them, marked.
	b.do(chromedp.Navigate(e.URL + "/desk/book"))
	b.deskSignIn("rita@clinic.example", "a long password 1")
	b.wait("the book screen", `location.pathname === "/desk/book" && document.querySelector("form.book")`)
	chooseType()
	b.wait("the time inside the notice", slotQ(soon.String())+` && `+slotQ(started.String())+` && `+slotQ(later.String()))
	if got := tag(soon.String()); got != "notice: within notice" {
		t.Errorf("the mark of the time in 30 minutes: got %q, want %q", got, "notice: within notice")
	}
	// 10 or, a minute on, 11 min ago.
	if got := tag(started.String()); !strings.HasPrefix(got, "started: started 1") || !strings.HasSuffix(got, " min ago") {
		t.Errorf("the mark of the started time: got %q, want \"started: started 10 min ago\"", got)
	}
	if got := tag(later.String()); got != "" {
		t.Errorf("the mark of the time the website offers too: got %q, want none", got)
	}
	b.axe(string(axeJS), "book a caller with times inside the notice")

	// In Spanish.
	b.js(`(() => { const l = document.querySelector("#lang"); l.value = "es"; l.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the Spanish book screen", `document.documentElement.lang === "es" && document.querySelector("form.book")`)
	chooseType()
	b.wait("las horas", slotQ(soon.String())+` && `+slotQ(started.String()))
	if got := tag(soon.String()); got != "notice: dentro del preaviso" {
		t.Errorf("the Spanish mark inside the notice: got %q, want %q", got, "notice: dentro del preaviso")
	}
	if got := tag(started.String()); !strings.HasPrefix(got, "started: empezó hace 1") {
		t.Errorf("the Spanish mark of the started time: got %q, want \"empezó hace 10 min\"", got)
	}
	b.js(`(() => { const l = document.querySelector("#lang"); l.value = "en"; l.dispatchEvent(new Event("change")); return true })()`, nil)
	b.wait("the English book screen", `document.documentElement.lang === "en" && document.querySelector("form.book")`)
	chooseType()
	b.wait("the times again", slotQ(soon.String()))

	// Booked in the time inside the notice.
	b.js(`(() => { `+slotQ(soon.String())+`.click();
		const set = (n, v) => { document.querySelector('[name="' + n + '"]').value = v; };
		set("patient.first_name", "Walter"); set("patient.last_name", "Inn"); set("patient.date_of_birth", "1971-03-09"); set("patient.phone", "+14245550188");
		document.querySelector('input[name="intake.red_flags"][value="none"]').click();
		document.querySelector("#bk-consent").click();
		document.querySelector("form.book").requestSubmit(); return true })()`, nil)
	b.wait("the booking found", `location.pathname === "/desk/find" && document.querySelector('[data-booking-id][data-status="confirmed"]')`)
	var id string
	b.js(`document.querySelector("[data-booking-id]").dataset.bookingId`, &id)
	var got struct {
		Source string `json:"source"`
		Slot   struct {
			ID string `json:"id"`
		} `json:"slot"`
	}
	e.do("GET", "/v1/bookings/"+id, nil, e.token(auth.RoleReception)).decode(t, &got)
	if got.Source != "phone" || got.Slot.ID != soon.String() {
		t.Errorf("the booking: source %q slot %s, want phone in %s", got.Source, got.Slot.ID, soon)
	}

	// Moving it offers the desk's times too: the walk-in arrived at the
	// counter while the time that has started still has its place.
	b.js(`document.querySelector('[data-booking-id] button[data-action="reschedule"]').click(); true`, nil)
	b.wait("the times to move to", `document.querySelector('form[data-reason-for="reschedule"] [data-slot-id=`+jsString(started.String())+`]') !== null`)
	var moveTag string
	b.js(`(() => { const x = document.querySelector('form[data-reason-for="reschedule"] [data-slot-id=`+jsString(started.String())+`]').closest("label").querySelector("[data-window]"); return x ? x.dataset.window : "" })()`, &moveTag)
	if moveTag != "started" {
		t.Errorf("the mark of the started time on the move form: got %q, want %q", moveTag, "started")
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
