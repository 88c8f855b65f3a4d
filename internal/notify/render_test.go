package notify

import (
	stdhtml "html"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// gsm7 holds the characters of the GSM 03.38 basic set that texts may use.
const gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

func localeDetails(t *testing.T, locale string) Details {
	t.Helper()
	zone, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC) // a Wednesday, 09:00 PST
	return Details{
		Booking: booking.Booking{ID: uuid.New(), Reference: "K7QM-4T2P", Locale: locale,
			Patient: booking.Patient{FirstName: "Ana"}, Status: booking.StatusConfirmed, Version: 2},
		Slot: booking.Slot{StartAt: start, EndAt: start.Add(45 * time.Minute)},
		Type: booking.ConsultationType{Name: "New patient consultation",
			Translations: booking.Translations{"es": {Name: "Primera consulta"}}},
		Provider: booking.Provider{Name: "Dr. Dana Reyes"},
		Location: booking.Location{Name: "Main office", Address: "1 Main St", Phone: "+14245550100",
			Translations: booking.Translations{"es": {Name: "Consultorio principal"}}},
		Zone: zone,
	}
}

// TestMessagesSpeakTheBookingsLanguage: every email and text in the
// booking's language, with the translated names, the local time in words
// of that language and the number to call.
func TestMessagesSpeakTheBookingsLanguage(t *testing.T) {
	tests := []struct {
		locale                          string
		wantSubject, wantIntro, wantSMS string
		want                            []string
		wantCall                        string
	}{
		{"en", "Your appointment is confirmed: Wed 2 Dec 09:00 PST", "your appointment is confirmed", "confirmed for Wed 2 Dec 09:00 PST",
			[]string{"New patient consultation with Dr. Dana Reyes", "Wednesday 2 December 2026, 09:00 PST", "Main office"}, "Call the clinic: +14245550100"},
		{"es", "Su cita está confirmada: mie 2 dic 09:00 PST", "su cita está confirmada", "cita confirmada el mie 2 dic 09:00 PST",
			[]string{"Primera consulta con Dr. Dana Reyes", "miércoles, 2 de diciembre de 2026, 09:00 PST", "Consultorio principal"}, "Llame a la clínica: +14245550100"},
	}
	n := &Notifier{cfg: Config{ClinicName: "Spine Clinic", PublicBaseURL: "http://clinic.test"}}
	for _, tt := range tests {
		d := localeDetails(t, tt.locale)
		v := n.view(d, Message{Template: Confirmed}, "tok")
		subject, text, html, err := renderEmail(v)
		if err != nil {
			t.Fatal(err)
		}
		if subject != tt.wantSubject {
			t.Errorf("%s subject: got %q, want %q", tt.locale, subject, tt.wantSubject)
		}
		for _, w := range append(tt.want, tt.wantIntro) {
			if !strings.Contains(text, w) || !strings.Contains(stdhtml.UnescapeString(html), w) {
				t.Errorf("%s: text or HTML lacks %q:\n%s\n%s", tt.locale, w, text, html)
			}
		}
		if !strings.Contains(text, tt.wantCall) || !strings.Contains(stdhtml.UnescapeString(html), `href="tel:+14245550100"`) {
			t.Errorf("%s: text lacks %q or HTML a tel: link", tt.locale, tt.wantCall)
		}
		if want := `<html lang="` + tt.locale + `">`; !strings.Contains(html, want) {
			t.Errorf("%s: HTML lacks %s", tt.locale, want)
		}
		for _, tpl := range []Template{Received, Confirmed, Declined, Cancelled, Rescheduled, Expired, Reminder} {
			v.Template = tpl
			if _, _, _, err := renderEmail(v); err != nil {
				t.Errorf("%s %s: %v", tt.locale, tpl, err)
			}
			if !smsTemplates[tpl] {
				continue
			}
			sms, err := renderSMS(v)
			if err != nil {
				t.Fatalf("%s %s text: %v", tt.locale, tpl, err)
			}
			if tpl == Confirmed && !strings.Contains(sms, tt.wantSMS) {
				t.Errorf("%s text: got %q, want it to hold %q", tt.locale, sms, tt.wantSMS)
			}
			for _, r := range sms {
				if !strings.ContainsRune(gsm7, r) {
					t.Errorf("%s %s text %q: %q is not in the GSM-7 alphabet", tt.locale, tpl, sms, r)
				}
			}
		}
	}
}

// TestCalendarFileSpeaksTheBookingsLanguage: the summary and location in
// the booking's language, marked with its LANGUAGE.
func TestCalendarFileSpeaksTheBookingsLanguage(t *testing.T) {
	for _, tt := range []struct{ locale, want string }{
		{"en", "SUMMARY:New patient consultation with Dr. Dana Reyes"},
		{"es", "SUMMARY;LANGUAGE=es:Primera consulta con Dr. Dana Reyes"},
	} {
		ics, err := CalendarFile(localeDetails(t, tt.locale), "Spine Clinic", "clinic.test", "", false)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ics), tt.want) {
			t.Errorf("%s: calendar file lacks %q:\n%s", tt.locale, tt.want, ics)
		}
	}
}

// TestWaitlistMessagesSpeakTheEntrysLanguage: the waitlist's offer and link
// messages in each language, what the patient typed shown as text in the
// HTML email, and the text messages in the GSM-7 alphabet.
func TestWaitlistMessagesSpeakTheEntrysLanguage(t *testing.T) {
	v := waitlistView{Clinic: "Spine & Back", FirstName: `<b>Ana</b>`, Type: "First visit", Reference: "WX7K-2M4Q",
		Link: "http://clinic.test/waitlist#reference=WX7K-2M4Q&token=t0k", When: "Wednesday 2 December 2026, 09:00 PST",
		ShortWhen: "Wed 2 Dec 09:00 PST", Until: "09:30 PST on 2 December", Address: "Main office, 1 Main St",
		Earliest: "1 December 2026", Latest: "9 December 2026"}
	tests := []struct {
		locale, kind string
		wantSubject  string
		wantText     []string
		wantSMS      string
	}{
		{"en", "offer", "A place is free for you: First visit, Wednesday 2 December 2026, 09:00 PST",
			[]string{"Hello <b>Ana</b>,", "A place has become free at Spine & Back: First visit, Wednesday 2 December 2026, 09:00 PST, at Main office, 1 Main St.",
				"It is kept for you until 09:30 PST on 2 December.", "Your waitlist reference: WX7K-2M4Q"},
			"Spine & Back: a place is free for you, First visit, Wed 2 Dec 09:00 PST. Kept until 09:30 PST on 2 December: " + v.Link},
		{"es", "offer", "Hay una hora libre para usted: First visit, Wednesday 2 December 2026, 09:00 PST",
			[]string{"Hola, <b>Ana</b>:", "Ha quedado libre una hora en Spine & Back:", "Se la guardamos hasta las", "Su referencia en la lista de espera: WX7K-2M4Q"},
			"Spine & Back: hay una hora libre para usted, First visit, Wed 2 Dec 09:00 PST. Guardada hasta las 09:30 PST on 2 December: " + v.Link},
		{"en", "link", "Your place on the waitlist (WX7K-2M4Q)",
			[]string{"asked to join the waitlist of Spine & Back for First visit, from 1 December 2026 to 9 December 2026, with your details.",
				"Here is your link again", "If you did not ask for this"},
			"Spine & Back: you are already on the waitlist (WX7K-2M4Q). Your link: " + v.Link},
		{"es", "link", "Su lugar en la lista de espera (WX7K-2M4Q)",
			[]string{"lista de espera de Spine & Back para First visit, del 1 December 2026 al 9 December 2026, con sus datos.", "Aquí tiene de nuevo su enlace"},
			"Spine & Back: ya esta en la lista de espera (WX7K-2M4Q). Su enlace: " + v.Link},
		{"fr", "link", "Your place on the waitlist (WX7K-2M4Q)", []string{"Hello <b>Ana</b>,"}, // no French: English
			"Spine & Back: you are already on the waitlist (WX7K-2M4Q). Your link: " + v.Link},
	}
	for _, tt := range tests {
		t.Run(tt.locale+"/"+tt.kind, func(t *testing.T) {
			v := v
			v.Locale = tt.locale
			m, err := renderWaitlistEmail(tt.kind, v)
			if err != nil {
				t.Fatal(err)
			}
			if m.subject != tt.wantSubject {
				t.Errorf("subject = %q, want %q", m.subject, tt.wantSubject)
			}
			for _, want := range append(tt.wantText, v.Link) {
				if !strings.Contains(m.text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.text)
				}
			}
			if strings.Contains(m.html, "<b>") || !strings.Contains(m.html, "&lt;b&gt;Ana&lt;/b&gt;") {
				t.Errorf("html does not show the first name as text:\n%s", m.html)
			}
			if want := `<html lang="` + tt.locale + `">`; tt.locale != "fr" && !strings.Contains(m.html, want) {
				t.Errorf("html lacks %s", want)
			}
			if want := `href="` + stdhtml.EscapeString(v.Link) + `"`; !strings.Contains(m.html, want) {
				t.Errorf("html lacks the link %s:\n%s", want, m.html)
			}
			sms, err := renderWaitlistSMS(tt.kind, v)
			if err != nil {
				t.Fatal(err)
			}
			if sms != tt.wantSMS {
				t.Errorf("text message = %q, want %q", sms, tt.wantSMS)
			}
			for _, r := range sms {
				if !strings.ContainsRune(gsm7, r) {
					t.Errorf("text message has %q, outside GSM-7: %q", r, sms)
				}
			}
		})
	}
}
