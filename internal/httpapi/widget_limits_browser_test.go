package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// The widget in Chromium against the two limits on online booking: a day
// whose holds already keep HOLD_MAX_SHARE of its places, and a patient who
// already has MAX_LIVE_PER_PATIENT live online bookings.

// limitsBrowserEnv starts the clinic's website on one origin and the
// booking server on another, with set applied to the server's options.
func limitsBrowserEnv(t *testing.T, set func(*httpapi.Options)) (*env, *clinic, string) {
	t.Helper()
	var apiURL string
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hostPage(apiURL).ServeHTTP(w, r) }))
	t.Cleanup(host.Close)
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) {
		o.CORSAllowedOrigins = []string{host.URL}
		o.PublicRateLimit = 0
		o.PublicHoldLimit = 10
		o.ClinicPhone = "+14245550100"
		set(o)
	})
	apiURL = e.URL
	return e, newClinic(t, e), host.URL
}

// fillDetails fills the details form as a patient would, with email and
// phone given.
func fillDetails(b *browser, first, email, phone, reason string) {
	b.t.Helper()
	for _, js := range []string{
		fill("patient.first_name", first), fill("patient.last_name", "López"), fill("patient.date_of_birth", "1980-04-02"),
		fill("patient.phone", phone), fill("patient.email", email),
		check("intake.red_flags", "none"), check("intake.pain_severity", "6"), check("intake.spasm_frequency", "weekly"),
		check("intake.recent_physical_activity", "false"), fill("intake.reason", reason),
		check("consent.privacy_policy_accepted", "true"),
	} {
		b.js(js, nil)
	}
}

// liveHolds is the number of live slot holds.
func liveHolds(t *testing.T, e *env) int {
	t.Helper()
	n, err := e.Store.LiveHolds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A day whose live holds already keep HOLD_MAX_SHARE of its free places:
// the widget's hold of a free time there is refused (409
// hold_share_reached), and the widget goes on to the details form without a
// hold rather than calling the time taken; the booking request, without a
// hold token, takes the place itself. In English and Spanish.
func TestWidgetBooksWithoutHoldWhenDayShareIsHeld(t *testing.T) {
	b := newBrowser(t)
	axeJS := axeScript(t)
	e, k, hostURL := limitsBrowserEnv(t, func(o *httpapi.Options) {
		o.Policy.HoldMaxShare = 0.5
		o.TrustedProxies = []string{"127.0.0.1", "::1"}
	})
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	// One day a language, four one-place times each: half (two) may be held.
	first := time.Now().In(loc).AddDate(0, 0, 4)
	days := map[string][]uuid.UUID{}
	for d, lang := range []string{"en", "es"} {
		y, m, dd := first.AddDate(0, 0, d).Date()
		for h := range 4 {
			days[lang] = append(days[lang], k.slot(t, slotOpts{start: time.Date(y, m, dd, 9+h, 0, 0, 0, loc), typeID: k.instant}))
		}
	}
	client := 0
	for _, tc := range []struct {
		lang, heading, booked, heldNote string
	}{
		{"en", "Your details", "Booked", "We keep this time"},
		{"es", "Sus datos", "Reservada", "Le guardamos esta hora"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b.t = t
			day := days[tc.lang]
			// Other patients, from other addresses, hold two of the day's
			// four places: its share.
			before := liveHolds(t, e)
			for _, sl := range day[:2] {
				client++
				if r := e.do("POST", "/v1/slot-holds", map[string]any{"slot_id": sl.String()}, fromClient(client)); r.Status != http.StatusCreated {
					t.Fatalf("another patient's hold: got %d %s, want 201", r.Status, r.Body)
				}
			}
			mine := day[2]
			if r := e.do("POST", "/v1/slot-holds", map[string]any{"slot_id": day[3].String()}, fromClient(client+100)); r.code() != "hold_share_reached" {
				t.Fatalf("a third hold on the day: got %d %s, want 409 hold_share_reached", r.Status, r.Body)
			}

			b.do(chromedp.Navigate(hostURL + "/?lang=" + tc.lang))
			b.wait("consultation types", q(`[data-consultation-type-id]`)+` !== null`)
			b.js(q(`[data-consultation-type-id=`+jsString(k.instant.String())+`]`)+`.click()`, nil)
			b.wait("the day's free time", q(`[data-slot-id=`+jsString(mine.String())+`]`)+` !== null`)
			b.js(q(`[data-slot-id=`+jsString(mine.String())+`]`)+`.click()`, nil)
			b.wait("the details form", q(`form`)+` !== null || `+q(`[role=alert]`)+`.textContent !== ""`)
			var state struct {
				Form    bool   `json:"form"`
				Heading string `json:"heading"`
				Alert   string `json:"alert"`
				Text    string `json:"text"`
			}
			b.js(`({form: `+q(`form`)+` !== null, heading: `+q(`h2`)+`.textContent, alert: (`+q(`[role=alert]`)+` || {}).textContent || "", text: `+shadow+`.textContent})`, &state)
			if !state.Form || state.Heading != tc.heading {
				t.Fatalf("after a refused hold: form %v, heading %q, alert %q; want the details form %q", state.Form, state.Heading, state.Alert, tc.heading)
			}
			if strings.Contains(state.Text, tc.heldNote) {
				t.Errorf("the details form says the time is held (%q), but it is not", tc.heldNote)
			}
			if got, want := liveHolds(t, e), before+2; got != want {
				t.Errorf("live holds with the form open: got %d, want %d (the others' two; none for the widget)", got, want)
			}
			b.focusedHeading("the details form without a hold")
			b.shot("share-details-" + tc.lang)
			b.axe(string(axeJS), "details form without a hold "+tc.lang)

			fillDetails(b, "Ana", "ana."+tc.lang+"@example.com", "+1 424 555 01"+map[string]string{"en": "31", "es": "32"}[tc.lang], "lower back pain")
			b.js(q(`button[type=submit]`)+`.click()`, nil)
			b.wait("the confirmation", q(`.reference`)+` !== null || `+q(`[role=alert]`)+`.textContent !== ""`)
			var done struct {
				Reference string `json:"reference"`
				Heading   string `json:"heading"`
				Alert     string `json:"alert"`
			}
			b.js(`({reference: (`+q(`.reference`)+` || {}).textContent || "", heading: `+q(`h2`)+`.textContent, alert: (`+q(`[role=alert]`)+` || {}).textContent || ""})`, &done)
			if done.Reference == "" || done.Heading != tc.booked {
				t.Fatalf("after submitting: heading %q, reference %q, alert %q; want %q with a reference", done.Heading, done.Reference, done.Alert, tc.booked)
			}
			b.shot("share-booked-" + tc.lang)

			items, _, err := e.Store.ListBookings(context.Background(), storeFilterAll())
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, it := range items {
				if it.Booking.SlotID == mine {
					found++
					if it.Booking.Reference != done.Reference || it.Booking.Locale != tc.lang {
						t.Errorf("the booking in the slot: reference %q locale %q, want %q %q", it.Booking.Reference, it.Booking.Locale, done.Reference, tc.lang)
					}
				}
			}
			if found != 1 {
				t.Errorf("bookings in the chosen slot: got %d, want 1", found)
			}
			// No hold was made or used: the others' holds are all still live.
			if got, want := liveHolds(t, e), before+2; got != want {
				t.Errorf("live holds after booking: got %d, want %d (the others' holds untouched)", got, want)
			}
			for _, sl := range day[:2] {
				if got := bookingsIn(t, e, sl); got != 0 {
					t.Errorf("a place another patient holds has %d bookings, want 0", got)
				}
			}
		})
	}
	b.t = t
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// A patient who already has MAX_LIVE_PER_PATIENT (1) live online bookings
// (by email) submits the widget's form: the widget keeps the form and its
// values, says why with the clinic's number as a tel: link, announces it,
// moves the focus to it (in view), and nothing more is booked. In English and
// Spanish.
func TestWidgetSaysPatientLimitReached(t *testing.T) {
	b := newBrowser(t)
	axeJS := axeScript(t)
	e, k, hostURL := limitsBrowserEnv(t, func(o *httpapi.Options) {
		o.Policy.MaxLivePerPatient = 1
	})
	// The patient's one live online booking, made earlier (ana@example.com).
	k.request(t, k.slot(t, slotOpts{}))
	for i := range 4 {
		k.slot(t, slotOpts{typeID: k.instant, start: time.Now().Add(96 * time.Hour).Truncate(time.Hour).Add(time.Duration(i) * time.Hour)})
	}
	for _, tc := range []struct {
		lang, email, phone, want string
	}{
		{"en", "ana@example.com", "+1 424 555 0177",
			"You already have 1 upcoming appointment booked online, as many as one patient may have. Please call the clinic: +14245550100."},
		{"es", "Ana@Example.com", "+34 612 345 678",
			"Ya tiene 1 cita próxima reservada en línea, tantas como puede tener un paciente. Llame a la clínica, por favor: +14245550100."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b.t = t
			b.do(chromedp.Navigate(hostURL + "/?lang=" + tc.lang))
			b.wait("consultation types", q(`[data-consultation-type-id]`)+` !== null`)
			b.js(q(`[data-consultation-type-id=`+jsString(k.instant.String())+`]`)+`.click()`, nil)
			b.wait("times", q(`[data-slot-id]`)+` !== null`)
			var slot string
			b.js(q(`[data-slot-id]`)+`.dataset.slotId`, &slot)
			b.js(q(`[data-slot-id]`)+`.click()`, nil)
			b.wait("the details form", q(`form`)+` !== null`)
			fillDetails(b, "Ana", tc.email, tc.phone, "lower back pain")
			b.js(check("consent.contact_by_sms", "true"), nil)

			// Submitted from the keyboard: Enter on the focused button.
			b.js(q(`button[type=submit]`)+`.focus()`, nil)
			b.do(chromedp.KeyEvent("\r"))
			b.wait("the limit message", q(`[data-call]`)+` !== null`)
			var got struct {
				Alert, Href, Focus string
				Form, InView       bool
				Values             map[string]string
				Checked            []string
			}
			b.js(`({alert: `+q(`form [role=alert]`)+`.textContent, href: `+q(`form [role=alert] a`)+`.getAttribute("href"), `+
				`form: `+q(`form`)+` !== null, `+
				`focus: (`+shadow+`.activeElement || {}).getAttribute("role") || "", `+
				`inView: (r => r.top >= 0 && r.bottom <= innerHeight)(`+q(`form [role=alert]`)+`.getBoundingClientRect()), `+
				`values: Object.fromEntries(Array.from(`+shadow+`.querySelectorAll("input[type=text], input[type=tel], input[type=email], input[type=date], textarea"), el => [el.name, el.value])), `+
				`checked: Array.from(`+shadow+`.querySelectorAll("input:checked"), el => el.name + "=" + el.value)})`, &got)
			if got.Alert != tc.want {
				t.Errorf("the message: got %q, want %q", got.Alert, tc.want)
			}
			if got.Href != "tel:+14245550100" {
				t.Errorf("the clinic's number links to %q, want tel:+14245550100", got.Href)
			}
			if !got.Form {
				t.Fatal("the form is gone after patient_limit_reached")
			}
			for name, want := range map[string]string{
				"patient.first_name": "Ana", "patient.last_name": "López", "patient.date_of_birth": "1980-04-02",
				"patient.email": tc.email, "patient.phone": tc.phone, "intake.reason": "lower back pain",
			} {
				if got.Values[name] != want {
					t.Errorf("field %s after the refusal: got %q, want %q", name, got.Values[name], want)
				}
			}
			for _, want := range []string{"intake.red_flags=none", "intake.pain_severity=6", "consent.privacy_policy_accepted=true", "consent.contact_by_sms=true"} {
				if !contains(got.Checked, want) {
					t.Errorf("after the refusal %s is not ticked (ticked: %v)", want, got.Checked)
				}
			}
			// The button is at the foot of a long form, the message at its
			// head: the focus goes to the message, which brings it into view
			// (and the next Tab to the number).
			if got.Focus != "alert" || !got.InView {
				t.Errorf("after the refusal: focus on role %q, message in view %v; want the focus on the message, in view", got.Focus, got.InView)
			}
			b.wait("the message announced", shadow+`.querySelector("[aria-live]").textContent === `+jsString(tc.want))
			b.shot("patient-limit-" + tc.lang)
			b.axe(string(axeJS), "patient limit message "+tc.lang)

			if n := bookingsIn(t, e, uuid.MustParse(slot)); n != 0 {
				t.Errorf("bookings in the chosen slot: got %d, want 0", n)
			}
			items, _, err := e.Store.ListBookings(context.Background(), storeFilterAll())
			if err != nil || len(items) != 1 {
				t.Errorf("bookings stored: got %d (%v), want the earlier 1 only", len(items), err)
			}
		})
	}
	b.t = t
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
