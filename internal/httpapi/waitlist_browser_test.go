package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
)

// The waitlist page an offer's email links to, in a real headless
// Chromium against a real server: the offered time in its location's zone,
// booking it, passing it on, leaving the waitlist, a lapsed offer, a link
// that is not valid, in English and Spanish, with axe-core.

// waitShadow is the shadow root of the waitlist page's widget.
const waitShadow = `document.querySelector("clinic-waitlist").shadowRoot`

func wq(sel string) string { return waitShadow + `.querySelector(` + jsString(sel) + `)` }

// waitText is everything the page shows, its widget included.
func waitText(b *browser) string {
	var s string
	b.js(`document.body.innerText + " " + `+waitShadow+`.textContent`, &s)
	return s
}

func TestWaitlistPageInBrowser(t *testing.T) {
	b := newBrowser(t)
	axeJS := axeScript(t)
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) {
		o.PublicRateLimit = 0
		o.ClinicPhone = "+14245550100"
	})
	k := newClinic(t, e)
	desk := e.token(auth.RoleReception)

	// join puts a patient of their own (a phone, a name, an email) on the waitlist:
	// the same patient joining again would get the same entry back. With
	// a locale, the entry is made in it (and its page speaks it).
	join := func(t *testing.T, typeID uuid.UUID, phone string, locale ...string) joinedJSON {
		t.Helper()
		body := waitlistBody(typeID, phone, "ana"+phone[len(phone)-3:]+"@example.com")
		body["patient"].(map[string]any)["last_name"] = "Lopez" + phone[len(phone)-3:]
		if len(locale) > 0 {
			body["locale"] = locale[0]
		}
		return k.join(t, body)
	}
	// offered joins and has reception offer the entry a fresh slot.
	offered := func(t *testing.T, typeID uuid.UUID, phone string, locale ...string) (joinedJSON, uuid.UUID) {
		t.Helper()
		j := join(t, typeID, phone, locale...)
		slot := k.slot(t, slotOpts{typeID: typeID})
		if r := e.do("POST", "/v1/waitlist/"+j.ID+"/offer", map[string]any{"slot_id": slot.String()}, desk); r.Status != http.StatusOK {
			t.Fatalf("offer: %d %s", r.Status, r.Body)
		}
		return j, slot
	}
	open := func(t *testing.T, locale, reference, token string) {
		t.Helper()
		u := e.URL + "/waitlist"
		if locale != "en" {
			u += "?locale=" + locale
		}
		// A new fragment alone does not load the page again: reload it.
		b.do(chromedp.Navigate(u+"#reference="+reference+"&token="+token), chromedp.Reload())
		// Right after a reload the old page's context may still answer
		// "cannot find context": ask again until the new page renders.
		deadline := time.Now().Add(15 * time.Second)
		for {
			ready, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](wq(`[data-status], [data-error]`)+` !== null`))
			if err == nil && ready {
				return
			}
			if time.Now().After(deadline) {
				b.wait("waitlist page", wq(`[data-status], [data-error]`)+` !== null`)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	click := func(action string) { b.js(wq(`[data-action=`+jsString(action)+`]`)+`.click()`, nil) }

	t.Run("the offer's time is given with its zone", func(t *testing.T) {
		j, _ := offered(t, k.instant, "+14245550140")
		var got struct {
			Offer struct {
				Timezone string `json:"timezone"`
			} `json:"offer"`
		}
		r := e.do("GET", "/v1/waitlist/"+j.Reference, nil, "X-Waitlist-Token: "+j.ManageToken)
		r.decode(t, &got)
		if r.Status != http.StatusOK || got.Offer.Timezone != "America/Los_Angeles" {
			t.Errorf("GET entry: %d offer timezone %q, want America/Los_Angeles", r.Status, got.Offer.Timezone)
		}
	})

	for _, tc := range []struct {
		locale, phone    string
		typ              func() uuid.UUID
		status           string // the booking's
		heading, offered string
	}{
		{"en", "+14245550141", func() uuid.UUID { return k.instant }, "confirmed", "Your place on the waitlist", "A time is offered to you"},
		{"es", "+14245550142", func() uuid.UUID { return k.reviewed }, "pending", "Su lugar en la lista de espera", "Se le ofrece una hora"},
	} {
		t.Run("book the offer in "+tc.locale, func(t *testing.T) {
			j, slot := offered(t, tc.typ(), tc.phone, tc.locale)
			open(t, tc.locale, j.Reference, j.ManageToken)
			var status, start, shown string
			b.js(wq(`[data-status]`)+`.dataset.status`, &status)
			b.js(wq(`[data-offer-start]`)+`.dataset.offerStart`, &start)
			b.js(wq(`[data-offer-start]`)+`.textContent`, &shown)
			if status != "offered" {
				t.Errorf("status %q, want offered", status)
			}
			sl, err := e.Store.Slot(t.Context(), slot)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := time.Parse(time.RFC3339, start); err != nil || !got.Equal(sl.StartAt) {
				t.Errorf("offer start %q, want %s", start, sl.StartAt)
			}
			if !strings.Contains(shown, "(America/Los_Angeles)") {
				t.Errorf("offered time %q, want it in the location's zone", shown)
			}
			text := waitText(b)
			for _, want := range []string{tc.heading, tc.offered, j.Reference} {
				if !strings.Contains(text, want) {
					t.Errorf("page lacks %q: %q", want, text)
				}
			}
			if strings.Contains(text, "null") || strings.Contains(text, "undefined") {
				t.Errorf("page shows stray text: %q", text)
			}
			b.shot("waitlist-offer-" + tc.locale)
			b.axe(string(axeJS), "waitlist offer "+tc.locale)

			click("accept")
			b.wait("booked", wq(`[data-booking-reference]`)+` !== null`)
			var ref string
			b.js(wq(`[data-booking-reference]`)+`.dataset.bookingReference`, &ref)
			if n := bookingsIn(t, e, slot); n != 1 {
				t.Fatalf("bookings in the offered slot: %d, want 1", n)
			}
			id, err := e.Store.BookingIDByReference(t.Context(), ref)
			if err != nil {
				t.Fatalf("booking %q: %v", ref, err)
			}
			bk, _, err := e.Store.Booking(t.Context(), id)
			if err != nil || bk.SlotID != slot || string(bk.Status) != tc.status {
				t.Errorf("booking %q: %+v %v, want %s in slot %s", ref, bk, err, tc.status, slot)
			}
			b.shot("waitlist-booked-" + tc.locale)
			b.axe(string(axeJS), "waitlist booked "+tc.locale)
		})
	}

	t.Run("not this time, then leave", func(t *testing.T) {
		j, slot := offered(t, k.instant, "+14245550143")
		open(t, "en", j.Reference, j.ManageToken)
		click("decline")
		b.wait("declined", wq(`[data-status="waiting"]`)+` !== null`)
		if n := bookingsIn(t, e, slot); n != 0 {
			t.Errorf("bookings after declining: %d, want 0", n)
		}
		click("leave")
		b.wait("confirm step", wq(`[data-action="leave-confirm"]`)+` !== null`)
		b.axe(string(axeJS), "waitlist leave confirm")
		click("leave-confirm")
		b.wait("left", wq(`[data-status="left"]`)+` !== null`)
		if r := e.do("GET", "/v1/waitlist/"+j.Reference, nil, "X-Waitlist-Token: "+j.ManageToken); !strings.Contains(string(r.Body), `"status":"left"`) {
			t.Errorf("entry after leaving: %s", r.Body)
		}
	})

	t.Run("an offer gone meanwhile says the entry still waits", func(t *testing.T) {
		j, _ := offered(t, k.instant, "+14245550144")
		open(t, "en", j.Reference, j.ManageToken)
		// The patient passes the place on from another device.
		if r := e.do("POST", "/v1/waitlist/"+j.Reference+"/decline", nil, "X-Waitlist-Token: "+j.ManageToken); r.Status != http.StatusOK {
			t.Fatalf("decline: %d %s", r.Status, r.Body)
		}
		click("accept")
		b.wait("offer gone", wq(`[data-notice="warn"]`)+` !== null`)
		var status string
		b.js(wq(`[data-status]`)+`.dataset.status`, &status)
		if text := waitText(b); status != "waiting" || !strings.Contains(text, "You are still on the waitlist") {
			t.Errorf("after a lost offer: status %q, text %q; want waiting and told so", status, text)
		}
	})

	for _, tc := range []struct{ locale, phone, want string }{
		{"en", "+14245550145", "This link is not valid."},
		{"es", "+14245550146", "Este enlace no es válido."},
	} {
		t.Run("a link that is not valid in "+tc.locale, func(t *testing.T) {
			j := join(t, k.instant, tc.phone)
			open(t, tc.locale, j.Reference, "wt_wrong")
			var code int
			b.js(wq(`[data-error]`)+`.dataset.error`, nil)
			b.js(`+`+wq(`[data-error]`)+`.dataset.error`, &code)
			var phone string
			b.js(wq(`[data-call] a[href^="tel:"]`)+`.textContent`, &phone)
			if text := waitText(b); code != 404 || !strings.Contains(text, tc.want) || phone != "+14245550100" {
				t.Errorf("bad link: error %d, phone %q, text %q; want 404, %q and the clinic's number", code, phone, text, tc.want)
			}
			b.axe(string(axeJS), "waitlist bad link "+tc.locale)
		})
	}

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
