package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// TestWidgetBooksWithoutHoldWhenShareReached: when the day's hold share is
// already held by others (409 hold_share_reached), the widget still opens
// the details form for the free time, without promising to keep it, and
// books it without a hold.
func TestWidgetBooksWithoutHoldWhenShareReached(t *testing.T) {
	b := newBrowser(t)
	var apiURL string
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hostPage(apiURL).ServeHTTP(w, r) }))
	t.Cleanup(host.Close)
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) {
		o.CORSAllowedOrigins = []string{host.URL}
		o.PublicRateLimit = 0
		o.Policy.HoldMaxShare = 0.5
		o.TrustedProxies = []string{"127.0.0.1", "::1"}
	})
	apiURL = e.URL
	k := newClinic(t, e)
	// Two free places on one day: half of them, one, may be held, and
	// another visitor holds it.
	start := time.Now().Add(72 * time.Hour).Truncate(24 * time.Hour).Add(17 * time.Hour)
	var slots []uuid.UUID
	for i := range 2 {
		slots = append(slots, k.slot(t, slotOpts{start: start.Add(time.Duration(i) * time.Hour), typeID: k.instant}))
	}
	if r, err := e.send("POST", "/v1/slot-holds", map[string]any{"slot_id": slots[0].String()}, fromClient(1)); err != nil || r.Status != http.StatusCreated {
		t.Fatalf("the other visitor's hold: %d %s, %v; want 201", r.Status, r.Body, err)
	}
	if r, err := e.send("POST", "/v1/slot-holds", map[string]any{"slot_id": slots[1].String()}, fromClient(2)); err != nil || r.Status != http.StatusConflict {
		t.Fatalf("a second hold on the day: %d %s, %v; want 409 hold_share_reached", r.Status, r.Body, err)
	}
	mine := slots[1]

	b.do(chromedp.Navigate(host.URL + "/?lang=en"))
	b.wait("consultation types", q(`[data-consultation-type-id]`)+` !== null`)
	b.js(q(`[data-consultation-type-id=`+jsString(k.instant.String())+`]`)+`.click()`, nil)
	b.wait("slots", q(`[data-slot-id=`+jsString(mine.String())+`]`)+` !== null`)
	b.js(q(`[data-slot-id=`+jsString(mine.String())+`]`)+`.click()`, nil)
	b.wait("details form without a hold", q(`form`)+` !== null`)
	b.shot("details-without-hold")
	var heldNote bool
	b.js(q(`[data-held-until]`)+` !== null`, &heldNote)
	if heldNote {
		t.Error("the form says the time is kept, but no hold was taken")
	}

	for _, step := range []string{
		fill("patient.first_name", "Ana"), fill("patient.last_name", "Lopez"), fill("patient.date_of_birth", "1980-04-02"),
		fill("patient.phone", "+14245550123"), check("intake.red_flags", "none"), check("intake.pain_severity", "7"),
		check("intake.spasm_frequency", "daily"), check("intake.recent_physical_activity", "false"),
		fill("intake.reason", "lower back pain"), check("consent.privacy_policy_accepted", "true"),
	} {
		b.js(step, nil)
	}
	b.js(q(`button[type=submit]`)+`.click()`, nil)
	b.wait("the reference", q(`[data-reference]`)+` !== null`)
	b.shot("booked-without-hold")
	if got := bookingsIn(t, e, mine); got != 1 {
		t.Errorf("bookings in the chosen slot: %d, want 1", got)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
