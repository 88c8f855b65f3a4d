package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/clinic/consult/internal/booking"
)

//go:embed templates
var templateFS embed.FS

// wording is what the messages say in one language: the phrases (subjects,
// openings, labels, calendar text), and the email and text message
// templates that use them.
type wording struct {
	phrases   *texttemplate.Template
	textEmail *texttemplate.Template
	htmlEmail *htmltemplate.Template
	sms       *texttemplate.Template
}

// wordings are the messages by language, one for each of booking.Locales:
// templates/phrases.LANG.tmpl and sms.LANG.tmpl, with the layout of
// email.txt.tmpl and email.html.tmpl shared.
var wordings = func() map[string]wording {
	out := map[string]wording{}
	for _, l := range booking.Locales {
		phrases := "templates/phrases." + l + ".tmpl"
		out[l] = wording{
			phrases:   texttemplate.Must(texttemplate.ParseFS(templateFS, phrases)),
			textEmail: texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/email.txt.tmpl", phrases)),
			htmlEmail: htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/email.html.tmpl", phrases)),
			sms:       texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/sms."+l+".tmpl")),
		}
	}
	return out
}()

// wordingFor returns the wording of locale, English when there is none.
func wordingFor(locale string) wording {
	if w, ok := wordings[locale]; ok {
		return w
	}
	return wordings[booking.Locales[0]]
}

// smsTemplates are the messages also sent as text messages.
var smsTemplates = map[Template]bool{Confirmed: true, Rescheduled: true, Cancelled: true, Reminder: true}

// view is what the templates see. It holds no intake answer: a template
// cannot show what it is not given.
type view struct {
	Template     Template
	Locale       string // the booking's language, "en" or "es"
	Clinic       string
	FirstName    string
	Type         string
	Provider     string
	Location     string
	Address      string
	AddressLines []string
	When         string // "Tuesday 1 December 2026, 09:00 PST (America/Los_Angeles)"
	ShortWhen    string // "Tue 1 Dec 09:00 PST"
	Reference    string
	ManageURL    string
	Phone        string // the number to call: the location's, else the clinic's; may be empty
	Reason       string
	Subject      string // set by renderEmail
	Intro        string // set by renderEmail
}

func (n *Notifier) view(d Details, m Message, token string) view {
	v := detailsView(d, n.cfg.ClinicName, n.cfg.ClinicPhone)
	v.Template, v.ManageURL, v.Reason = m.Template, n.manageURL(d.Booking.Reference, token), m.Reason
	return v
}

// detailsView is the view of d in its booking's language, without what
// belongs to one message (template, manage link, reason).
func detailsView(d Details, clinic, clinicPhone string) view {
	locale := booking.PickLocale(d.Booking.Locale)
	typ, loc := d.Type.Localized(locale), d.Location.Localized(locale)
	local := d.Slot.StartAt.In(d.Zone)
	provider := d.Provider.Name
	if d.Provider.Title != "" {
		provider += " (" + d.Provider.Title + ")"
	}
	var lines []string
	for _, l := range strings.Split(loc.Address, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	phone := loc.Phone
	if phone == "" {
		phone = clinicPhone
	}
	return view{
		Locale: locale, Clinic: clinic, FirstName: d.Booking.Patient.FirstName,
		Type: typ.Name, Provider: provider, Location: loc.Name,
		Address: strings.Join(lines, ", "), AddressLines: lines,
		When:      longWhen(locale, local) + " (" + d.Zone.String() + ")",
		ShortWhen: shortWhen(locale, local),
		Reference: d.Booking.Reference, Phone: phone,
	}
}

// Spanish names of days and months; Go's time package knows only English.
var (
	esDays      = [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	esShortDays = [...]string{"dom", "lun", "mar", "mie", "jue", "vie", "sab"}
	esMonths    = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
		"septiembre", "octubre", "noviembre", "diciembre"}
)

// longWhen is the local date and time in full: "Tuesday 1 December 2026,
// 09:00 PST", "martes, 1 de diciembre de 2026, 09:00 PST".
func longWhen(locale string, t time.Time) string {
	if locale == "es" {
		return fmt.Sprintf("%s, %d de %s de %d, %s", esDays[t.Weekday()], t.Day(), esMonths[t.Month()-1], t.Year(), t.Format("15:04 MST"))
	}
	return t.Format("Monday 2 January 2006, 15:04 MST")
}

// shortWhen is the local date and time for subjects and texts: "Tue 1 Dec
// 09:00 PST", "mar 1 dic 09:00 PST". The Spanish abbreviations are written
// without accents (sab, mie): texts keep to the GSM-7 alphabet.
func shortWhen(locale string, t time.Time) string {
	if locale == "es" {
		return fmt.Sprintf("%s %d %s %s", esShortDays[t.Weekday()], t.Day(), esMonths[t.Month()-1][:3], t.Format("15:04 MST"))
	}
	return t.Format("Mon 2 Jan 15:04 MST")
}

func renderEmail(v view) (subject, text, html string, err error) {
	w := wordingFor(v.Locale)
	var b bytes.Buffer
	if err := w.phrases.ExecuteTemplate(&b, string(v.Template)+".subject", v); err != nil {
		return "", "", "", fmt.Errorf("render subject: %w", err)
	}
	v.Subject = strings.TrimSpace(b.String())
	b.Reset()
	if err := w.phrases.ExecuteTemplate(&b, string(v.Template)+".intro", v); err != nil {
		return "", "", "", fmt.Errorf("render intro: %w", err)
	}
	v.Intro = strings.TrimSpace(b.String())
	b.Reset()
	if err := w.textEmail.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("render text: %w", err)
	}
	text = b.String()
	b.Reset()
	if err := w.htmlEmail.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("render html: %w", err)
	}
	return v.Subject, text, b.String(), nil
}

func renderSMS(v view) (string, error) {
	var b bytes.Buffer
	if err := wordingFor(v.Locale).sms.ExecuteTemplate(&b, string(v.Template), v); err != nil {
		return "", fmt.Errorf("render text message: %w", err)
	}
	return strings.TrimSpace(b.String()), nil
}

// calendarText is what a booking's calendar file says, in its language:
// the event's summary and description, and the language's tag.
func calendarText(d Details, clinic, clinicPhone string) (summary, description, lang string, err error) {
	v := detailsView(d, clinic, clinicPhone)
	v.Provider = d.Provider.Name
	w := wordingFor(v.Locale)
	var b bytes.Buffer
	if err := w.phrases.ExecuteTemplate(&b, "calendar.summary", v); err != nil {
		return "", "", "", fmt.Errorf("render calendar summary: %w", err)
	}
	summary = strings.TrimSpace(b.String())
	b.Reset()
	if err := w.phrases.ExecuteTemplate(&b, "calendar.description", v); err != nil {
		return "", "", "", fmt.Errorf("render calendar description: %w", err)
	}
	return summary, strings.TrimSpace(b.String()), v.Locale, nil
}
