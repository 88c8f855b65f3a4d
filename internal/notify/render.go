package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

//go:embed templates
var templateFS embed.FS

var (
	phrases   = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/phrases.tmpl"))
	textEmail = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/email.txt.tmpl"))
	htmlEmail = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/email.html.tmpl"))
	smsText   = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/sms.txt.tmpl"))
)

// smsTemplates are the messages also sent as text messages.
var smsTemplates = map[Template]bool{Confirmed: true, Rescheduled: true, Cancelled: true, Reminder: true}

// view is what the templates see. It holds no intake answer: a template
// cannot show what it is not given.
type view struct {
	Template     Template
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
	Reason       string
	Subject      string // set by renderEmail
	Intro        string // set by renderEmail
}

func (n *Notifier) view(d Details, m Message, token string) view {
	local := d.Slot.StartAt.In(d.Zone)
	provider := d.Provider.Name
	if d.Provider.Title != "" {
		provider += " (" + d.Provider.Title + ")"
	}
	var lines []string
	for _, l := range strings.Split(d.Location.Address, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return view{
		Template: m.Template, Clinic: n.cfg.ClinicName, FirstName: d.Booking.Patient.FirstName,
		Type: d.Type.Name, Provider: provider, Location: d.Location.Name,
		Address: strings.Join(lines, ", "), AddressLines: lines,
		When:      local.Format("Monday 2 January 2006, 15:04 MST") + " (" + d.Zone.String() + ")",
		ShortWhen: local.Format("Mon 2 Jan 15:04 MST"),
		Reference: d.Booking.Reference, ManageURL: n.manageURL(d.Booking.Reference, token),
		Reason: m.Reason,
	}
}

func renderEmail(v view) (subject, text, html string, err error) {
	var b bytes.Buffer
	if err := phrases.ExecuteTemplate(&b, string(v.Template)+".subject", v); err != nil {
		return "", "", "", fmt.Errorf("render subject: %w", err)
	}
	v.Subject = strings.TrimSpace(b.String())
	b.Reset()
	if err := phrases.ExecuteTemplate(&b, string(v.Template)+".intro", v); err != nil {
		return "", "", "", fmt.Errorf("render intro: %w", err)
	}
	v.Intro = strings.TrimSpace(b.String())
	b.Reset()
	if err := textEmail.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("render text: %w", err)
	}
	text = b.String()
	b.Reset()
	if err := htmlEmail.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("render html: %w", err)
	}
	return v.Subject, text, b.String(), nil
}

func renderSMS(v view) (string, error) {
	var b bytes.Buffer
	if err := smsText.ExecuteTemplate(&b, string(v.Template), v); err != nil {
		return "", fmt.Errorf("render text message: %w", err)
	}
	return strings.TrimSpace(b.String()), nil
}
