package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/store"
)

// The widget in a real headless Chromium, embedded in a website served from
// a second origin, against a real server: the booking flow end to end, field
// errors, a slot lost to another patient, Spanish, the manage page, no
// console errors, no request to a third origin, and axe-core.

// chromiumPath finds the browser: CHROMIUM_PATH, else chromium on PATH. A
// missing browser skips the test, except under CI=true, where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, env := range []string{"CHROMIUM_PATH", "CHROMIUM"} {
		if p := os.Getenv(env); p != "" {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)")
	return ""
}

// axePath finds axe.min.js: AXE_CORE_JS, else where .ci/run installs it.
func axePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("AXE_CORE_JS"); p != "" {
		return p
	}
	p, _ := filepath.Abs("../../.ci/axe/node_modules/axe-core/axe.min.js")
	if _, err := os.Stat(p); err != nil {
		missing(t, "axe-core is not installed (npm install --prefix .ci/axe axe-core@4.10.3, or set AXE_CORE_JS)")
	}
	return p
}

// axeScript is the text of axe.min.js (see axePath), for a page to run.
func axeScript(t *testing.T) []byte {
	t.Helper()
	js, err := os.ReadFile(axePath(t))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// browser is one Chromium tab with what the test watches: console errors,
// exceptions and every request's URL.
type browser struct {
	t        *testing.T
	ctx      context.Context
	shots    string
	mu       sync.Mutex
	errors   []string
	requests []string
	n        int
	paused   chan *fetch.EventRequestPaused // requests stopped by the Fetch domain
}

// headless starts Debian's chromium as every browser test here runs it:
// headless, in a fresh profile, and without the background traffic that
// this machine's closed network would refuse.
func headless(t *testing.T, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	return ctx, func() { cancelB(); cancelA() }
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	ctx, cancel := headless(t, chromedp.WindowSize(1024, 900))
	t.Cleanup(cancel)
	shots := os.Getenv("WIDGET_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx, shots: shots, paused: make(chan *fetch.EventRequestPaused, 16)}
	// Open the tab first, so that the listener misses nothing of the pages.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		call(ctx, network.Enable, network.EnableParams{}),
		call(ctx, log.Enable, cdp.Empty{}),
		call(ctx, runtime.Enable, cdp.Empty{}),
	} {
		if err != nil {
			t.Fatalf("enable events: %v", err)
		}
	}
	return b
}

func call[P any](ctx context.Context, cmd cdp.Command[P, cdp.Empty], p P) error {
	_, err := chromedp.Call(ctx, cmd, p)
	return err
}

// record keeps console errors, exceptions and request URLs; it runs on the
// tab's goroutine, so it only appends under the lock.
func (b *browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			b.errors = append(b.errors, "console.error: "+strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		b.errors = append(b.errors, "exception: "+e.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		// Network entries are the expected 4xx answers (409, 422) that the
		// widget handles; anything else (a CSP violation, an error of the
		// page) is a failure.
		if e.Entry.Level == log.EntryLevelError && e.Entry.Source != log.EntrySourceNetwork {
			b.errors = append(b.errors, string(e.Entry.Source)+": "+e.Entry.Text)
		}
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, e.Request.URL)
	case *fetch.EventRequestPaused:
		select {
		case b.paused <- e:
		default:
		}
	}
}

// loseNextResponse lets the next POST to path reach the server, then drops
// its response as a broken connection would: the server has acted, the
// page sees a network error. It returns once the response was dropped.
func (b *browser) loseNextResponse(path string, trigger func()) {
	b.t.Helper()
	pattern := &fetch.RequestPattern{URLPattern: "*" + path, RequestStage: fetch.RequestStageResponse}
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{pattern}}); err != nil {
		b.t.Fatal(err)
	}
	defer func() {
		if _, err := chromedp.Call(b.ctx, fetch.Disable, cdp.Empty{}); err != nil {
			b.t.Fatal(err)
		}
	}()
	trigger()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case e := <-b.paused:
			if e.Request.Method != http.MethodPost {
				if _, err := chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID}); err != nil {
					b.t.Fatal(err)
				}
				continue
			}
			if _, err := chromedp.Call(b.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonConnectionReset}); err != nil {
				b.t.Fatal(err)
			}
			return
		case <-timeout:
			b.t.Fatalf("no POST %s was sent", path)
		}
	}
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (console: %v)", err, b.consoleErrors())
	}
}

// js evaluates expr in the page (awaiting a promise) and decodes its value
// into out (may be nil).
func (b *browser) js(expr string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("js %.200s: %v (console: %v)", expr, err, b.consoleErrors())
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("js %.200s: %s: %v", expr, raw, err)
		}
	}
}

// wait polls expr until it is truthy (an exception counts as false).
func (b *browser) wait(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	safe := `(() => { try { return !!(` + expr + `) } catch (e) { return false } })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](safe, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const w = document.querySelector("clinic-booking, clinic-manage"); return w && w.shadowRoot ? w.shadowRoot.innerHTML : document.body.innerHTML })()`))
		b.t.Fatalf("waiting for %s: %v\nwidget: %.3000s\nconsole: %v", what, err, html, b.consoleErrors())
	}
}

func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	b.n++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// origins checks that every request went to one of allowed.
func (b *browser) origins(allowed ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, raw := range b.requests {
		u, err := url.Parse(raw)
		if err != nil {
			b.t.Errorf("request to %q", raw)
			continue
		}
		if u.Scheme == "data" || u.Scheme == "blob" {
			continue
		}
		origin := u.Scheme + "://" + u.Host
		found := false
		for _, a := range allowed {
			found = found || origin == a
		}
		if !found {
			b.t.Errorf("a request left the two origins: %s", raw)
		}
	}
	if len(b.requests) == 0 {
		b.t.Error("no request seen: the network listener is not working")
	}
}

// axe runs axe-core on the page (shadow roots included) and fails on any
// serious or critical violation. It returns the number of rules that passed.
func (b *browser) axe(script, step string) int {
	b.t.Helper()
	b.js(script+";true", nil)
	var res struct {
		Passes     int `json:"passes"`
		Violations []struct {
			ID     string `json:"id"`
			Impact string `json:"impact"`
			Help   string `json:"help"`
			Nodes  []struct {
				Target []any  `json:"target"`
				HTML   string `json:"html"`
			} `json:"nodes"`
		} `json:"violations"`
	}
	b.js(`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
		.then(r => ({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.slice(0, 3).map(n => ({target: n.target, html: n.html}))}))}))`, &res)
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("axe (%s): %s %s: %s %+v", step, v.Impact, v.ID, v.Help, v.Nodes)
		} else {
			b.t.Logf("axe (%s): %s %s: %s", step, v.Impact, v.ID, v.Help)
		}
	}
	return res.Passes
}

// tabTo presses Tab until the element sel of the widget has the focus.
func (b *browser) tabTo(what, sel string) {
	b.t.Helper()
	for range 30 {
		var ok bool
		b.js(`document.activeElement === document.querySelector("clinic-booking, clinic-manage") && `+
			shadow+`.activeElement === `+q(sel), &ok)
		if ok {
			return
		}
		b.do(chromedp.KeyEvent("\t"))
	}
	b.t.Fatalf("Tab never reached %s", what)
}

// focusedHeading checks that the focus is on the step's heading.
func (b *browser) focusedHeading(step string) {
	b.t.Helper()
	var tag string
	b.js(`(`+shadow+`.activeElement || {}).tagName || ""`, &tag)
	if tag != "H2" {
		b.t.Errorf("%s: focus on %q, want the step's heading", step, tag)
	}
}

// shadow is the expression of the widget's shadow root.
const shadow = `document.querySelector("clinic-booking, clinic-manage").shadowRoot`

func q(sel string) string { return shadow + `.querySelector(` + jsString(sel) + `)` }

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hostPage serves the clinic's website: another origin, with its own strict
// Content-Security-Policy that allows scripts and requests to the booking
// server only.
func hostPage(apiURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := r.URL.Query().Get("lang")
		if lang == "" {
			lang = "en"
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src "+apiURL+"; connect-src "+apiURL+
			"; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html>
<html lang="%[2]s">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Spine clinic</title>
<script src="%[1]s/widget.js" defer></script>
</head>
<body>
<header><p>Spine clinic: our website</p></header>
<main>
<h1>Book online</h1>
<clinic-booking data-locale="%[2]s"></clinic-booking>
</main>
</body>
</html>`, apiURL, lang)
	})
}

// fill types into the widget's form field by name, as input events.
func fill(name, value string) string {
	return fmt.Sprintf(`(() => { const el = %s.querySelector('[name=%q]'); el.value = %s;
		el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return true })()`,
		shadow, name, jsString(value))
}

// check ticks the radio or checkbox name=value.
func check(name, value string) string {
	return fmt.Sprintf(`(() => { const el = %s.querySelector('input[name=%q][value=%q]'); el.click(); return el.checked })()`, shadow, name, value)
}

func TestWidgetInBrowser(t *testing.T) {
	b := newBrowser(t)
	axeJS := axeScript(t)
	// The website's origin must be known before the booking server starts
	// (its CORS list), so the host server starts first and learns the API
	// address afterwards.
	var apiURL string
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hostPage(apiURL).ServeHTTP(w, r) }))
	t.Cleanup(host.Close)
	clock := &testClock{}
	e := newClockEnv(t, sqliteURL(t), clock, func(o *httpapi.Options, _ *auth.Options) {
		o.CORSAllowedOrigins = []string{host.URL}
		o.PublicRateLimit = 0
		o.ClinicPhone, o.PrivacyPolicyURL = "+14245550100", "https://clinic.example/privacy"
	})
	apiURL = e.URL
	k := newClinic(t, e)
	if _, err := e.Store.UpdateConsultationType(context.Background(), k.instant, func(ct *booking.ConsultationType) error {
		ct.Translations = booking.Translations{"es": {Name: "Consulta de seguimiento"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Three days ahead and on, hourly: the first is taken by another patient
	// while the widget shows it.
	start := time.Now().Add(72 * time.Hour).Truncate(24 * time.Hour).Add(17 * time.Hour)
	var slots []uuid.UUID
	for i := range 6 {
		slots = append(slots, k.slot(t, slotOpts{start: start.Add(time.Duration(i) * time.Hour), typeID: k.instant}))
	}
	taken, mine := slots[0], slots[1]
	// One time inside the online change cutoff (24 hours): offered, marked.
	lateSlot := k.slot(t, slotOpts{start: time.Now().Add(5 * time.Hour).Truncate(time.Hour), typeID: k.instant})

	// 1. The consultation type.
	b.do(chromedp.Navigate(host.URL + "/?lang=en"))
	b.wait("consultation types", q(`[data-consultation-type-id]`)+` !== null`)
	b.shot("types")
	b.js(q(`[data-consultation-type-id=`+jsString(k.instant.String())+`]`)+`.click()`, nil)

	// 2. The next free times, in the clinic's zone, labelled with it.
	b.wait("slots", q(`[data-slot-id]`)+` !== null`)
	var zoneNote string
	b.js(q(`.help`)+`.textContent`, &zoneNote)
	if !strings.Contains(zoneNote, "America/Los_Angeles") {
		t.Errorf("slot list: %q, want the clinic's time zone named", zoneNote)
	}
	var focused string
	b.js(shadow+`.activeElement && `+shadow+`.activeElement.tagName`, &focused)
	if focused != "H2" {
		t.Errorf("after choosing a type, focus is on %q, want the step's heading", focused)
	}
	b.shot("slots")

	// 3. Another patient books the first time meanwhile: the widget says so
	// and offers the rest.
	k.request(t, taken)
	b.js(q(`[data-slot-id=`+jsString(taken.String())+`]`)+`.click()`, nil)
	b.wait("the taken slot removed", q(`[data-slot-id=`+jsString(taken.String())+`]`)+` === null && `+q(`[role=alert]`)+`.textContent.includes("just taken")`)
	b.shot("slot-taken")

	// 4. Hold a free time: the details form, from the intake form's data.
	b.js(q(`[data-slot-id=`+jsString(mine.String())+`]`)+`.click()`, nil)
	b.wait("details form", q(`form`)+` !== null`)
	if n, err := e.Store.LiveHolds(context.Background()); err != nil || n != 1 {
		t.Errorf("live holds after choosing a time: %d, %v; want 1", n, err)
	}
	var names []string
	b.js(`Array.from(`+shadow+`.querySelectorAll("input[name], textarea[name]"), el => el.name + (el.type === "checkbox" || el.type === "radio" ? "=" + el.value : ""))`, &names)
	for _, want := range []string{"patient.first_name", "patient.date_of_birth", "intake.pain_severity=7", "intake.relieved_by=heat_or_ice",
		"intake.relieved_by=massage", "intake.spasm_frequency=daily", "intake.recent_physical_activity=true", "intake.activity_details",
		"intake.reason", "consent.privacy_policy_accepted=true"} {
		if !contains(names, want) {
			t.Errorf("form lacks an input %s (has %v)", want, names)
		}
	}
	var consent struct {
		Href, Target, SMS, Email, Note string
	}
	b.js(`({href: `+q(`a[data-privacy-policy]`)+`.href, target: `+q(`a[data-privacy-policy]`)+`.target, `+
		`sms: `+q(`[data-field="consent.contact_by_sms"] label`)+`.textContent, email: `+q(`[data-field="consent.contact_by_email"] label`)+`.textContent, `+
		`note: `+q(`[data-consent-note]`)+`.textContent})`, &consent)
	if consent.Href != "https://clinic.example/privacy" || consent.Target != "_blank" {
		t.Errorf("privacy policy link: got %q target %q, want the policy in a new tab", consent.Href, consent.Target)
	}
	if !strings.Contains(consent.SMS, "Text me (SMS) about this booking") || !strings.Contains(consent.Email, "email me a reminder") ||
		!strings.Contains(consent.Note, "We always email the address above") {
		t.Errorf("consent labels: got %+v, want what each box governs", consent)
	}
	var hidden bool
	b.js(q(`[data-field="intake.activity_details"]`)+`.hidden`, &hidden)
	if !hidden {
		t.Error("activity details shown before recent activity is answered yes")
	}
	b.shot("details")
	passes := b.axe(string(axeJS), "details form")

	// 5. Submit with errors: each message next to its field.
	b.js(q(`button[type=submit]`)+`.click()`, nil)
	b.wait("field errors", q(`#err-patient-first_name`)+`.textContent !== ""`)
	for _, f := range []string{"patient-last_name", "patient-phone", "intake-pain_severity", "intake-reason", "consent-privacy_policy_accepted"} {
		var msg string
		b.js(q(`#err-`+f)+`.textContent`, &msg)
		if msg == "" {
			t.Errorf("no error message next to %s", f)
		}
	}
	var msg string
	b.js(q(`#err-patient-first_name`)+`.textContent`, &msg)
	if msg != "This field is required." {
		t.Errorf("English field error %q, want %q", msg, "This field is required.")
	}
	var invalid string
	b.js(q(`[name="patient.first_name"]`)+`.getAttribute("aria-invalid")`, &invalid)
	if invalid != "true" {
		t.Errorf("first name aria-invalid = %q, want true", invalid)
	}
	b.shot("field-errors")
	b.axe(string(axeJS), "field errors")

	// 6. Fill it in and book; a double click books once.
	for _, js := range []string{
		fill("patient.first_name", "Ana"), fill("patient.last_name", "López"), fill("patient.date_of_birth", "1980-04-02"),
		fill("patient.phone", "+1 424 555 0123"), fill("patient.email", "ana@example.com"),
		check("intake.red_flags", "none"),
		check("intake.pain_severity", "7"), check("intake.relieved_by", "heat_or_ice"), check("intake.relieved_by", "massage"),
		check("intake.spasm_frequency", "daily"), check("intake.recent_physical_activity", "true"),
		fill("intake.activity_details", "moved house"), fill("intake.reason", "lower back spasms"),
		check("consent.privacy_policy_accepted", "true"), check("consent.contact_by_email", "true"),
	} {
		b.js(js, nil)
	}
	b.js(q(`[data-field="intake.activity_details"]`)+`.hidden`, &hidden)
	if hidden {
		t.Error("activity details hidden after recent activity answered yes")
	}
	b.shot("filled")
	// The connection breaks after the server booked: the widget says so and
	// keeps the form; trying again (with a double click) replays the first
	// answer rather than booking twice.
	b.loseNextResponse("/v1/booking-requests", func() {
		b.js(q(`button[type=submit]`)+`.click()`, nil)
	})
	b.wait("the offline message", q(`[role=alert]`)+`.textContent.includes("could not reach")`)
	b.shot("connection-lost")
	if got := bookingsIn(t, e, mine); got != 1 {
		t.Fatalf("after the lost response: %d bookings in the slot, want 1 (the server booked)", got)
	}
	b.js(`(() => { const s = `+q(`button[type=submit]`)+`; s.click(); s.click(); return true })()`, nil)
	b.wait("confirmation", q(`.reference`)+` !== null`)
	var reference string
	b.js(q(`.reference`)+`.textContent`, &reference)
	var changeNote string
	b.js(q(`[data-changeable-until]`)+`.textContent`, &changeNote)
	if !strings.Contains(changeNote, "until") {
		t.Errorf("confirmation: %q, want until when online changes are possible", changeNote)
	}
	var manageHref string
	b.js(q(`a[href*="/manage#"]`)+`.href`, &manageHref)
	if !strings.HasPrefix(manageHref, e.URL+"/manage#reference="+reference+"&token=") {
		t.Errorf("manage link %q", manageHref)
	}
	var calendar bool
	b.js(`Array.from(`+shadow+`.querySelectorAll("button")).some(x => x.textContent.includes(".ics"))`, &calendar)
	if !calendar {
		t.Error("no add-to-calendar on the confirmation")
	}
	b.shot("booked")
	b.axe(string(axeJS), "confirmation")
	list, _, err := e.Store.ListBookings(context.Background(), storeFilterAll())
	if err != nil {
		t.Fatal(err)
	}
	mineCount := 0
	for _, it := range list {
		if it.Booking.SlotID == mine {
			mineCount++
			if it.Booking.Reference != reference || it.Booking.Intake.ActivityDetails != "moved house" || it.Booking.Patient.Phone != "+14245550123" {
				t.Errorf("booked %+v", it.Booking)
			}
		}
	}
	if mineCount != 1 {
		t.Errorf("bookings in the chosen slot: %d, want 1 (a retry and a double click book once)", mineCount)
	}
	if n, _ := e.Store.LiveHolds(context.Background()); n != 0 {
		t.Errorf("live holds after booking: %d, want 0 (the booking uses its hold)", n)
	}

	// 7. The manage page: reference and token from the fragment; reschedule,
	// then cancel.
	b.do(chromedp.Navigate(manageHref))
	b.wait("manage page", q(`[data-status]`)+` !== null`)
	var status string
	b.js(q(`[data-status]`)+`.dataset.status`, &status)
	if status != "confirmed" {
		t.Errorf("manage page status %q, want confirmed", status)
	}
	b.shot("manage")
	b.axe(string(axeJS), "manage page")
	var pageText string
	b.js(`document.body.innerText + " " + `+shadow+`.textContent`, &pageText)
	if strings.Contains(pageText, "null") || strings.Contains(pageText, "undefined") {
		t.Errorf("manage page shows stray text: %q", pageText)
	}
	b.js(`Array.from(`+shadow+`.querySelectorAll("button")).find(x => x.textContent === "Move to another time").click()`, nil)
	b.wait("reschedule slots", q(`[data-slot-id]`)+` !== null`)
	var lateLabel string
	b.js(q(`[data-slot-id=`+jsString(lateSlot.String())+`]`)+`.textContent`, &lateLabel)
	if !strings.Contains(lateLabel, "Cannot be changed online") {
		t.Errorf("a time inside the change cutoff: %q, want it marked", lateLabel)
	}
	var laterLabel string
	b.js(q(`[data-slot-id=`+jsString(slots[3].String())+`]`)+`.textContent`, &laterLabel)
	if strings.Contains(laterLabel, "Cannot be changed online") {
		t.Errorf("a time outside the change cutoff: %q, want it unmarked", laterLabel)
	}
	target := slots[3]
	b.shot("reschedule")
	b.js(q(`[data-slot-id=`+jsString(target.String())+`]`)+`.click()`, nil)
	b.wait("the move to confirm", q(`[data-action="confirm-reschedule"]`)+` !== null`)
	// One tap on a time moves nothing: the patient sees old and new first.
	if got := k.booked(t, target); got != 0 {
		t.Errorf("before the confirmation, the new slot has %d booked, want 0", got)
	}
	var oldStart, newStart string
	b.js(q(`[data-old-start]`)+`.dataset.oldStart`, &oldStart)
	b.js(q(`[data-new-start]`)+`.dataset.newStart`, &newStart)
	if oldStart == "" || newStart == "" || oldStart == newStart {
		t.Errorf("confirmation shows old %q and new %q, want both", oldStart, newStart)
	}
	b.shot("reschedule-confirm")
	b.axe(string(axeJS), "reschedule confirmation")
	b.js(q(`[data-action="confirm-reschedule"]`)+`.click()`, nil)
	b.wait("moved", q(`[data-start]`)+` !== null && `+shadow+`.textContent.includes("was moved")`)
	if got := k.booked(t, target); got != 1 {
		t.Errorf("after the reschedule, the new slot has %d booked, want 1", got)
	}
	if got := k.booked(t, mine); got != 0 {
		t.Errorf("after the reschedule, the old slot has %d booked, want 0", got)
	}
	b.shot("rescheduled")
	b.js(`Array.from(`+shadow+`.querySelectorAll("button")).find(x => x.textContent === "Cancel booking").click()`, nil)
	b.wait("cancel confirmation", shadow+`.textContent.includes("Cancel this booking?")`)
	b.js(`Array.from(`+shadow+`.querySelectorAll("button")).find(x => x.textContent === "Yes, cancel it").click()`, nil)
	b.wait("cancelled", q(`[data-status]`)+` !== null && `+q(`[data-status]`)+`.dataset.status === "cancelled"`)
	b.shot("cancelled")

	// 8. Spanish, on a phone-sized screen.
	b.do(chromedp.EmulateViewport(320, 800), chromedp.Navigate(host.URL+"/?lang=es"))
	b.wait("tipos de consulta", q(`[data-consultation-type-id]`)+` !== null`)
	var title string
	b.js(q(`h2`)+`.textContent`, &title)
	if title != "¿Qué tipo de consulta?" {
		t.Errorf("Spanish heading %q", title)
	}
	var typeName string
	b.js(q(`[data-consultation-type-id=`+jsString(k.instant.String())+`] strong`)+`.textContent`, &typeName)
	if typeName != "Consulta de seguimiento" {
		t.Errorf("Spanish consultation type name %q, want the translation Consulta de seguimiento", typeName)
	}
	// Keyboard only: Tab to the consultation type, Enter, Tab to a time.
	b.tabTo("the consultation type", `[data-consultation-type-id=`+jsString(k.instant.String())+`]`)
	b.do(chromedp.KeyEvent("\r"))
	b.wait("horas", q(`[data-slot-id]`)+` !== null`)
	b.focusedHeading("the times")
	var day string
	b.js(q(`section h3`)+`.textContent`, &day)
	if !strings.ContainsAny(day, "áé") && !containsAnyWord(day, "lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo") {
		t.Errorf("Spanish day heading %q, want a Spanish weekday", day)
	}
	// Two times held elsewhere from this address: the third hold is refused
	// with when to try again; once one is released, it works.
	h1 := e.hold(t, slots[4])
	e.hold(t, slots[5])
	b.tabTo("the first time", `[data-slot-id]`)
	var heldID string
	b.js(shadow+`.activeElement.dataset.slotId`, &heldID)
	b.do(chromedp.KeyEvent("\r"))
	b.wait("the hold limit message", q(`[role=alert]`)+`.textContent.includes("inténtelo de nuevo en")`)
	b.shot("hold-limit")
	if r := e.do("DELETE", "/v1/slot-holds/"+h1.ID, nil, "X-Hold-Token: "+h1.HoldToken); r.Status != http.StatusNoContent {
		t.Fatalf("release: %d %s", r.Status, r.Body)
	}
	b.do(chromedp.KeyEvent("\r"))
	b.wait("formulario", q(`form`)+` !== null`)
	var label string
	b.js(q(`[data-field="intake.pain_severity"] legend`)+`.textContent`, &label)
	if !strings.Contains(label, "¿Qué intensidad tiene su dolor?") {
		t.Errorf("Spanish intake label %q", label)
	}
	var overflow bool
	b.js(`document.documentElement.scrollWidth > 320`, &overflow)
	if overflow {
		t.Error("at 320 px the page scrolls sideways")
	}
	b.focusedHeading("the details form")
	var privacyES string
	b.js(q(`[data-field="consent.privacy_policy_accepted"] label`)+`.textContent`, &privacyES)
	if !strings.Contains(privacyES, "política de privacidad") || !strings.Contains(privacyES, "pestaña nueva") {
		t.Errorf("Spanish privacy consent %q", privacyES)
	}
	b.shot("spanish-320px")
	b.axe(string(axeJS), "Spanish form at 320 px")

	// Field errors in Spanish too, said from each problem's code and
	// bound: a date before the earliest (too_early, limit 1900-01-01), a
	// text over its length (too_long, limit 2000).
	b.js(fill("patient.date_of_birth", "1899-12-31"), nil)
	b.js(fill("intake.reason", strings.Repeat("a", 2001)), nil)
	b.js(q(`button[type=submit]`)+`.click()`, nil)
	b.wait("errores", q(`#err-patient-first_name`)+`.textContent !== ""`)
	for id, want := range map[string]string{
		"patient-first_name":    "Este dato es obligatorio.",
		"patient-date_of_birth": "No puede ser anterior al 1 de enero de 1900.",
		"intake-reason":         "Como máximo 2000 caracteres.",
	} {
		var msg string
		b.js(q(`#err-`+id)+`.textContent`, &msg)
		if msg != want {
			t.Errorf("Spanish field error for %s: got %q, want %q", id, msg, want)
		}
	}

	// The hold runs out while the patient types: the booking answers 409
	// hold_expired, and the widget goes back to the times without that one.
	for _, js := range []string{
		fill("patient.first_name", "Luis"), fill("patient.last_name", "García"), fill("patient.date_of_birth", "1975-01-31"),
		fill("patient.phone", "+34 612 345 678"), check("intake.red_flags", "none"), check("intake.pain_severity", "3"), check("intake.spasm_frequency", "weekly"),
		check("intake.recent_physical_activity", "false"), fill("intake.reason", "dolor lumbar"),
		check("consent.privacy_policy_accepted", "true"),
	} {
		b.js(js, nil)
	}
	clock.advance(10*time.Minute + time.Second)
	b.js(q(`button[type=submit]`)+`.click()`, nil)
	b.wait("back to the times", q(`[role=alert]`)+`.textContent.includes("Terminó el tiempo") && `+
		q(`[data-slot-id=`+jsString(heldID)+`]`)+` === null && `+q(`[data-slot-id]`)+` !== null`)
	b.focusedHeading("the times again")
	b.shot("hold-expired")
	if got := bookingsIn(t, e, uuid.MustParse(heldID)); got != 0 {
		t.Errorf("a booking with an expired hold: %d bookings, want 0", got)
	}

	// Booked in Spanish: the booking records it, and the confirmation names
	// the consultation in Spanish.
	var esSlot string
	b.js(q(`[data-slot-id]`)+`.dataset.slotId`, &esSlot)
	b.js(q(`[data-slot-id]`)+`.click()`, nil)
	b.wait("formulario otra vez", q(`form`)+` !== null`)
	for _, js := range []string{
		fill("patient.first_name", "Luis"), fill("patient.last_name", "García"), fill("patient.date_of_birth", "1975-01-31"),
		fill("patient.phone", "+34 612 345 678"), check("intake.red_flags", "none"), check("intake.pain_severity", "3"), check("intake.spasm_frequency", "weekly"),
		check("intake.recent_physical_activity", "false"), fill("intake.reason", "dolor lumbar"),
		check("consent.privacy_policy_accepted", "true"),
	} {
		b.js(js, nil)
	}
	b.js(q(`button[type=submit]`)+`.click()`, nil)
	b.wait("confirmación", q(`.reference`)+` !== null`)
	var doneText string
	b.js(shadow+`.textContent`, &doneText)
	if !strings.Contains(doneText, "Consulta de seguimiento") {
		t.Errorf("Spanish confirmation: %q, want the translated consultation name", doneText)
	}
	esBookings, _, err := e.Store.ListBookings(context.Background(), storeFilterAll())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range esBookings {
		if it.Booking.SlotID.String() == esSlot && it.Booking.Locale != "es" {
			t.Errorf("the Spanish booking's locale: got %q, want es", it.Booking.Locale)
		}
	}
	b.shot("booked-spanish")
	// Its manage page, opened from a link without the language (an email's)
	// in an English browser, speaks Spanish: the booking's language.
	var esManage string
	b.js(q(`a[href*="/manage"]`)+`.href`, &esManage)
	esManage = strings.Replace(esManage, "/manage?locale=es#", "/manage#", 1)
	b.do(chromedp.Navigate(esManage))
	b.wait("la página de la reserva", q(`[data-status]`)+` !== null`)
	var esPage struct{ H1, Lang, Status, Type string }
	b.js(`({h1: document.querySelector("h1").textContent, lang: document.documentElement.lang, status: `+q(`[data-status]`)+`.textContent, `+
		`type: `+shadow+`.textContent})`, &esPage)
	if esPage.H1 != "Su reserva" || esPage.Lang != "es" || esPage.Status != "Confirmada" || !strings.Contains(esPage.Type, "Consulta de seguimiento") {
		t.Errorf("manage page of a Spanish booking: got %+v, want it in Spanish", esPage)
	}

	// 9. The hosted page, under the server's own strict CSP, with the
	// consultation type preselected: it starts at the times.
	b.do(chromedp.EmulateViewport(1024, 900), chromedp.Navigate(e.URL+"/book?locale=es&consultation_type="+k.instant.String()))
	b.wait("the hosted page's times", q(`[data-slot-id]`)+` !== null && document.title === "Reservar una consulta"`)
	b.shot("hosted-book-page")

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
	b.origins(host.URL, e.URL)
	t.Logf("axe-core: 5 states checked, no serious or critical violation (%d rules passed on the details form); screenshots in %s", passes, b.shots)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsAnyWord(s string, words ...string) bool {
	s = strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// bookingsIn counts the bookings in slot.
func bookingsIn(t *testing.T, e *env, slot uuid.UUID) int {
	t.Helper()
	list, _, err := e.Store.ListBookings(context.Background(), storeFilterAll())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range list {
		if it.Booking.SlotID == slot {
			n++
		}
	}
	return n
}

func storeFilterAll() store.BookingFilter { return store.BookingFilter{Limit: 200} }
