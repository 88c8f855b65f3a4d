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

// TestWidgetEmergencyScreen: in English and Spanish, ticking an emergency
// red flag stops the booking at once: the widget shows what to do now (the
// rules' words, the emergency services, the clinic's phone), gives the
// held time back, and nothing is booked or stored. "None of these" clears
// the other answers and the reverse.
func TestWidgetEmergencyScreen(t *testing.T) {
	b := newBrowser(t)
	axeJS := axeScript(t)
	var apiURL string
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hostPage(apiURL).ServeHTTP(w, r) }))
	t.Cleanup(host.Close)
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) {
		o.CORSAllowedOrigins = []string{host.URL}
		o.PublicRateLimit = 0
		o.ClinicPhone = "+14245550100"
	})
	apiURL = e.URL
	k := newClinic(t, e)
	start := time.Now().Add(72 * time.Hour).Truncate(24 * time.Hour).Add(17 * time.Hour)
	var slots []uuid.UUID
	for i := range 2 {
		slots = append(slots, k.slot(t, slotOpts{start: start.Add(time.Duration(i) * time.Hour), typeID: k.instant}))
	}
	for _, tc := range []struct {
		lang, flag, title, says string
	}{
		{"en", "saddle_numbness", "Please get medical help now", "emergency department"},
		{"es", "bladder_bowel_change", "Busque atención médica ahora", "servicio de urgencias"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b.do(chromedp.Navigate(host.URL + "/?lang=" + tc.lang))
			b.wait("consultation types", q(`[data-consultation-type-id]`)+` !== null`)
			b.js(q(`[data-consultation-type-id=`+jsString(k.instant.String())+`]`)+`.click()`, nil)
			b.wait("slots", q(`[data-slot-id]`)+` !== null`)
			b.js(q(`[data-slot-id]`)+`.click()`, nil)
			b.wait("details form", q(`form`)+` !== null`)
			if n, err := e.Store.LiveHolds(context.Background()); err != nil || n != 1 {
				t.Fatalf("live holds with the form open: %d, %v; want 1", n, err)
			}

			// "None of these" and an answer exclude each other.
			var checked []string
			b.js(check("intake.red_flags", "recent_trauma"), nil)
			b.js(check("intake.red_flags", "none"), nil)
			b.js(`Array.from(`+shadow+`.querySelectorAll('input[name="intake.red_flags"]:checked'), el => el.value)`, &checked)
			if len(checked) != 1 || checked[0] != "none" {
				t.Errorf("after ticking none: %v checked, want only none", checked)
			}

			b.js(fill("patient.first_name", "Ana"), nil)
			b.js(check("intake.red_flags", tc.flag), nil)
			b.wait("the emergency screen", q(`[data-triage=emergency]`)+` !== null`)
			b.shot("emergency-" + tc.lang)
			var title, text, phone string
			b.js(q(`h2`)+`.textContent`, &title)
			b.js(q(`[data-triage=emergency]`)+`.textContent`, &text)
			b.js(q(`[data-clinic-phone]`)+`.getAttribute("href")`, &phone)
			if title != tc.title || !strings.Contains(text, tc.says) || phone != "tel:+14245550100" {
				t.Errorf("emergency screen: title %q, text %q, phone %q; want %q, text with %q, tel:+14245550100", title, text, phone, tc.title, tc.says)
			}
			b.focusedHeading("the emergency screen")
			b.axe(string(axeJS), "emergency screen "+tc.lang)
			var gone bool
			b.js(q(`form`)+` === null`, &gone)
			if !gone {
				t.Error("the booking form is still there under the emergency screen")
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				n, err := e.Store.LiveHolds(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("live holds after the emergency screen: %d, want 0", n)
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Counted for the clinic, anonymously: once a screen, each
			// language's run adding one.
			want := 1.0
			if tc.lang == "es" {
				want = 2
			}
			for deadline := time.Now().Add(5 * time.Second); e.metric("triage_emergency_screens_total") < want && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			if got := e.metric("triage_emergency_screens_total"); got != want {
				t.Errorf("triage_emergency_screens_total = %v, want %v", got, want)
			}
			for _, s := range slots {
				if got := bookingsIn(t, e, s); got != 0 {
					t.Errorf("bookings in slot %s: %d, want 0", s, got)
				}
			}
			items, _, err := e.Store.ListBookings(context.Background(), storeFilterAll())
			if err != nil || len(items) != 0 {
				t.Errorf("bookings stored: %d (%v), want none", len(items), err)
			}
		})
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
