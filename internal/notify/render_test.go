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
