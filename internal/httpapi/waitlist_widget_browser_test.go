package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/store"
)

// Joining the waitlist from the booking widget, in a real headless Chromium
// on a website of another origin, against a real server whose waitlist
// emails go to a real Mailpit: a patient in Spanish finds no free time in
// her dates, joins, a place is cancelled by reception, the offer arrives by
// email in Spanish, and its link, followed in the browser, books the place.
// A patient in English joins with times free but none that suit, then
// joins again and is told the link was sent again.

// fillPatient fills the patient, intake and consent of the widget's form.
func fillPatient(b *browser, first, phone, email string) {
	b.t.Helper()
	for _, js := range []string{
		fill("patient.first_name", first), fill("patient.last_name", "García"), fill("patient.date_of_birth", "1979-06-15"),
		fill("patient.phone", phone), fill("patient.email", email),
		check("intake.red_flags", "none"),
		check("intake.pain_severity", "6"), check("intake.relieved_by", "heat_or_ice"),
		check("intake.spasm_frequency", "weekly"), check("intake.recent_physical_activity", "false"),
		fill("intake.reason", "dolor lumbar"),
		check("consent.privacy_policy_accepted", "true"), check("consent.contact_by_email", "true"),
	} {
		b.js(js, nil)
	}
}

func TestWaitlistFromWidgetInBrowser(t *testing.T) {
	b := newBrowser(t)
	axeJS := axeScript(t)
	axe := func(step string) { b.axe(string(axeJS), step) }
	mp := mailpit.Start(t)
	var apiURL string
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hostPage(apiURL).ServeHTTP(w, r) }))
	t.Cleanup(host.Close)
	e := newMailEnv(t, sqliteURL(t), mp, func(o *httpapi.Options, _ *auth.Options) {
		o.CORSAllowedOrigins = []string{host.URL}
		o.PublicRateLimit = 0
		o.ClinicPhone, o.PrivacyPolicyURL = "+14245550100", "https://clinic.example/privacy"
	})
	apiURL = e.URL
	k := newClinic(t, e)
	ctx := context.Background()
	if _, err := e.Store.UpdateConsultationType(ctx, k.reviewed, func(ct *booking.ConsultationType) error {
		ct.Translations = booking.Translations{"es": {Name: "Primera consulta"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	desk := e.token(auth.RoleReception)
	today := booking.DateOf(time.Now(), time.Local)
	text := func() string {
		var s string
		b.js(shadow+`.textContent`, &s)
		return s
	}
	pickType := func(locale string, typ string) {
		t.Helper()
		b.do(chromedp.Navigate(host.URL + "/?lang=" + locale))
		b.wait("consultation types", q(`[data-consultation-type-id]`)+` !== null`)
		b.js(q(`[data-consultation-type-id=`+jsString(typ)+`]`)+`.click()`, nil)
		b.wait("the waitlist offer", q(`[data-action="waitlist"]`)+` !== null`)
	}
	submit := func() { b.js(q(`form[data-form="waitlist"] button[type=submit]`)+`.click()`, nil) }

	// In Spanish: no time in her dates, the waitlist, a cancelled place,
	// the emailed offer booked. (One browser for both parts, so no
	// subtests: the browser's helpers fail the test that made it.)
	{
		// The only place in her dates is booked by someone else.
		slot := k.slot(t, slotOpts{typeID: k.reviewed})
		other := k.request(t, slot)

		pickType("es", k.reviewed.String())
		if s := text(); !strings.Contains(s, "No hay horas libres ahora para esta consulta.") || !strings.Contains(s, "Apuntarse a la lista de espera") {
			t.Errorf("slots step: %q, want no free time and the waitlist offered", s)
		}
		b.shot("waitlist-offer-es")
		axe("waitlist offered (es)")

		b.js(q(`[data-action="waitlist"]`)+`.click()`, nil)
		b.wait("the waitlist form", q(`form[data-form="waitlist"]`)+` !== null`)
		b.focusedHeading("waitlist form")
		var names []string
		b.js(`Array.from(`+shadow+`.querySelectorAll("input[name], textarea[name]"), el => el.name + (el.type === "checkbox" || el.type === "radio" ? "=" + el.value : ""))`, &names)
		for _, want := range []string{"earliest_date", "latest_date", "times_of_day=any", "times_of_day=morning", "times_of_day=afternoon",
			"patient.first_name", "patient.phone", "intake.pain_severity=7", "intake.reason", "consent.privacy_policy_accepted=true",
			"consent.contact_by_sms=true", "consent.contact_by_email=true"} {
			if !contains(names, want) {
				t.Errorf("waitlist form lacks an input %s (has %v)", want, names)
			}
		}
		var labels struct{ SMS, Email string }
		b.js(`({sms: `+q(`[data-field="consent.contact_by_sms"] label`)+`.textContent, email: `+q(`[data-field="consent.contact_by_email"] label`)+`.textContent})`, &labels)
		if !strings.Contains(labels.SMS, "SMS cuando quede libre una hora") || !strings.Contains(labels.Email, "correo cuando quede libre una hora") {
			t.Errorf("consent labels: %+v, want what each sends for the waitlist", labels)
		}
		axe("waitlist form (es)")

		// No details: the server's field list, each message next to its
		// field, in Spanish.
		submit()
		b.wait("field errors", q(`#err-patient-first_name`)+`.textContent !== ""`)
		var errs struct{ First, Privacy, Invalid, Summary string }
		b.js(`({first: `+q(`#err-patient-first_name`)+`.textContent, privacy: `+q(`#err-consent-privacy_policy_accepted`)+`.textContent, `+
			`invalid: `+q(`[name="patient.first_name"]`)+`.getAttribute("aria-invalid"), summary: `+q(`form [role=alert]`)+`.textContent})`, &errs)
		if errs.First != "Este dato es obligatorio." || errs.Privacy == "" || errs.Invalid != "true" || !strings.HasPrefix(errs.Summary, "Corrija ") {
			t.Errorf("field errors: %+v, want the Spanish messages next to the first name and the consent", errs)
		}
		axe("waitlist field errors (es)")
		// The details, but the dates the wrong way round.
		fillPatient(b, "Lucía", "+34 612 345 678", "lucia@example.com")
		b.js(fill("earliest_date", today.AddDays(5).String()), nil)
		b.js(fill("latest_date", today.AddDays(1).String()), nil)
		submit()
		b.wait("the dates' error", q(`#err-latest_date`)+`.textContent !== ""`)
		var latest struct{ Msg, Invalid, DescribedBy, First string }
		b.js(`({msg: `+q(`#err-latest_date`)+`.textContent, invalid: `+q(`[name="latest_date"]`)+`.getAttribute("aria-invalid"), `+
			`describedBy: `+q(`[name="latest_date"]`)+`.getAttribute("aria-describedby"), first: `+q(`#err-patient-first_name`)+`.textContent})`, &latest)
		if latest.Msg != "Debe ser posterior al inicio." || latest.Invalid != "true" || !strings.Contains(latest.DescribedBy, "err-latest_date") || latest.First != "" {
			t.Errorf("dates error: %+v, want the Spanish message tied to latest_date only", latest)
		}
		if n, _, err := e.Store.ListWaitlist(ctx, store.WaitlistFilter{}); err != nil || len(n) != 0 {
			t.Fatalf("entries after refused joins: %d, %v", len(n), err)
		}
		b.shot("waitlist-errors-es")
		axe("waitlist field errors (es)")

		b.js(fill("earliest_date", today.String()), nil)
		b.js(fill("latest_date", today.AddDays(10).String()), nil)
		submit()
		b.wait("joined", q(`[data-waitlist-reference]`)+` !== null`)
		b.focusedHeading("joined")
		var ref, page string
		b.js(q(`[data-waitlist-reference]`)+`.dataset.waitlistReference`, &ref)
		b.js(q(`a.button`)+`.href`, &page)
		if s := text(); !strings.Contains(s, "Está en la lista de espera") || !strings.Contains(s, "le enviamos un correo o un mensaje de texto") {
			t.Errorf("joined: %q, want the Spanish confirmation", s)
		}
		if !strings.HasPrefix(page, e.URL+"/waitlist?locale=es#reference="+ref+"&token=") {
			t.Errorf("the waitlist page link %q, want the entry's page with its token", page)
		}
		b.shot("waitlist-joined-es")
		axe("waitlist joined (es)")
		entry, err := e.Store.WaitlistEntryByRef(ctx, ref)
		if err != nil || entry.Locale != "es" || entry.Status != booking.WaitlistWaiting || entry.Patient.Email != "lucia@example.com" {
			t.Fatalf("entry %q: %+v %v, want waiting in es", ref, entry, err)
		}

		// Reception cancels the other patient's booking: the place is
		// offered to her, by email, in Spanish.
		if r := e.do("POST", "/v1/bookings/"+other.ID+"/cancel", map[string]any{"reason": "El paciente llamó"}, desk); r.Status != http.StatusOK {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		m := mailTo(t, mp, "lucia@example.com", 1)[0]
		if !strings.HasPrefix(m.Subject, "Hay una hora libre para usted: Primera consulta, ") {
			t.Errorf("offer subject %q, want the Spanish one with the translated type", m.Subject)
		}
		if !strings.Contains(m.Text, "Hola, Lucía:") || !strings.Contains(m.Text, "Se la guardamos hasta las ") || !strings.Contains(m.Text, ref) {
			t.Errorf("offer text is not the Spanish offer for %s:\n%s", ref, m.Text)
		}
		link := waitLink.FindString(m.Text)
		if !strings.HasPrefix(link, e.URL+"/waitlist#") {
			t.Fatalf("no link to the waitlist page in:\n%s", m.Text)
		}

		// The link, followed in the browser: the page speaks Spanish and
		// books the place.
		b.do(chromedp.Navigate(link))
		b.wait("the offer", wq(`[data-offer-start]`)+` !== null`)
		if s := waitText(b); !strings.Contains(s, "Se le ofrece una hora") || !strings.Contains(s, "Su lugar en la lista de espera") {
			t.Errorf("waitlist page: %q, want it in the entry's Spanish", s)
		}
		var lang string
		b.js(`document.documentElement.lang`, &lang)
		if lang != "es" {
			t.Errorf("page lang %q, want es", lang)
		}
		b.shot("waitlist-email-offer-es")
		axe("offer from the email (es)")
		b.js(wq(`[data-action="accept"]`)+`.click()`, nil)
		b.wait("booked", wq(`[data-booking-reference]`)+` !== null`)
		var bref string
		b.js(wq(`[data-booking-reference]`)+`.dataset.bookingReference`, &bref)
		id, err := e.Store.BookingIDByReference(ctx, bref)
		if err != nil {
			t.Fatalf("booking %q: %v", bref, err)
		}
		bk, _, err := e.Store.Booking(ctx, id)
		if err != nil || bk.SlotID != slot || bk.Status != booking.StatusPending || bk.Locale != "es" || bk.Patient.FirstName != "Lucía" {
			t.Errorf("booking %q: %+v %v, want Lucía's pending booking of the freed place, in es", bref, bk, err)
		}
		if entry, err := e.Store.WaitlistEntryByRef(ctx, ref); err != nil || entry.Status != booking.WaitlistBooked {
			t.Errorf("entry after accepting: %s %v, want booked", entry.Status, err)
		}
		b.shot("waitlist-email-booked-es")
	}

	// In English: times free but none that suit, joined; joining again
	// sends the link again.
	{
		free := k.slot(t, slotOpts{typeID: k.instant})
		join := func() {
			t.Helper()
			pickType("en", k.instant.String())
			b.wait("the free time", q(`[data-slot-id=`+jsString(free.String())+`]`)+` !== null`)
			if !strings.Contains(text(), "None of these times suit you?") {
				t.Errorf("slots step: %q, want the free time and the waitlist offered", text())
			}
			b.js(q(`[data-action="waitlist"]`)+`.click()`, nil)
			b.wait("the waitlist form", q(`form[data-form="waitlist"]`)+` !== null`)
			b.js(check("times_of_day", "morning"), nil)
			fillPatient(b, "Grace", "+1 424 555 0177", "grace@example.com")
			submit()
			b.wait("the answer", q(`[data-waitlist-reference]`)+` !== null`)
			b.focusedHeading("the answer")
		}
		join()
		var ref string
		b.js(q(`[data-waitlist-reference]`)+`.dataset.waitlistReference`, &ref)
		if s := text(); !strings.Contains(s, "You are on the waitlist") || !strings.Contains(s, "See or leave your place on the waitlist") {
			t.Errorf("joined: %q, want the English confirmation", s)
		}
		axe("waitlist joined (en)")
		entry, err := e.Store.WaitlistEntryByRef(ctx, ref)
		if err != nil || entry.Locale != "en" || len(entry.TimesOfDay) != 1 || entry.TimesOfDay[0] != booking.TimeMorning {
			t.Fatalf("entry %q: %+v %v, want mornings, in en", ref, entry, err)
		}

		join()
		var again, existing string
		b.js(q(`[data-waitlist-reference]`)+`.dataset.waitlistReference`, &again)
		b.js(q(`[data-existing]`)+`.dataset.existing`, &existing)
		if s := text(); again != ref || existing != "resent" || !strings.Contains(s, "You are already on the waitlist") ||
			!strings.Contains(s, "We sent the link to your place again") || strings.Contains(s, "See or leave your place") {
			t.Errorf("joined again: ref %q existing %q text %q; want %s, told the link was sent again, and no link shown", again, existing, s, ref)
		}
		b.shot("waitlist-again-en")
		axe("waitlist joined again (en)")
		m := mailTo(t, mp, "grace@example.com", 1)[0]
		if m.Subject != "Your place on the waitlist ("+ref+")" || waitLink.FindString(m.Text) == "" {
			t.Errorf("the link sent again: %q\n%s", m.Subject, m.Text)
		}
	}

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
	b.origins(host.URL, e.URL)
}
