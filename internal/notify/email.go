package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
)

// Mailer sends email through one SMTP server.
type Mailer struct {
	cfg    config.SMTP
	from   string // SMTP_FROM as given
	domain string // of the from address: Message-IDs end in it
}

// NewMailer returns a Mailer for the server cfg, sending as from.
func NewMailer(cfg config.SMTP, from string) (*Mailer, error) {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mailer: from address: %w", err)
	}
	domain := addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]
	return &Mailer{cfg: cfg, from: from, domain: domain}, nil
}

// FromAddress is the bare sender address.
func (m *Mailer) FromAddress() string {
	addr, _ := mail.ParseAddress(m.from)
	return addr.Address
}

func (m *Mailer) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(m.cfg.Port), gomail.WithTimeout(20 * time.Second)}
	switch m.cfg.Security {
	case config.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case config.STARTTLSRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if m.cfg.Username != "" {
		// The strongest mechanism the server offers; credentials never
		// travel in clear, except to a relay on this machine (loopback),
		// where PLAIN is allowed without TLS.
		mech := gomail.SMTPAuthAutoDiscover
		if ip := net.ParseIP(m.cfg.Host); m.cfg.Host == "localhost" || (ip != nil && ip.IsLoopback()) {
			mech = gomail.SMTPAuthPlain
		}
		opts = append(opts, gomail.WithSMTPAuth(mech),
			gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	return gomail.NewClient(m.cfg.Host, opts...)
}

// attachment is a file attached to an email.
type attachment struct {
	name        string
	contentType string
	data        []byte
}

// email is one message to send.
type email struct {
	id          string // stable message id
	to          string
	subject     string
	text, html  string
	attachments []attachment
}

// send hands e to the server: nil once the server accepted it.
func (m *Mailer) send(ctx context.Context, e email) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return delivery.Permanent(fmt.Errorf("from address: %w", err))
	}
	if err := msg.To(e.to); err != nil {
		return delivery.Permanent(fmt.Errorf("recipient address: %w", err))
	}
	msg.SetMessageIDWithValue(e.id + "@" + m.domain)
	msg.SetGenHeader("X-Message-ID", e.id)
	msg.SetDate()
	msg.Subject(e.subject)
	msg.SetBodyString(gomail.TypeTextPlain, e.text)
	msg.AddAlternativeString(gomail.TypeTextHTML, e.html)
	for _, a := range e.attachments {
		if err := msg.AttachReader(a.name, bytes.NewReader(a.data), gomail.WithFileContentType(gomail.ContentType(a.contentType))); err != nil {
			return fmt.Errorf("attach %s: %w", a.name, err)
		}
	}
	c, err := m.client()
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// sendEmail is the handler of patient email jobs.
func (n *Notifier) sendEmail(ctx context.Context, j delivery.Job[EmailArgs]) error {
	m := Message(j.Args)
	if n.cfg.Email == nil {
		return delivery.Permanent(errors.New("email is not configured (SMTP_URL)"))
	}
	return n.inTurn(ctx, channelOf(KindEmail), m, func() error { return n.deliverEmail(ctx, j, m) })
}

// deliverEmail builds and sends email m, in its booking's turn.
func (n *Notifier) deliverEmail(ctx context.Context, j delivery.Job[EmailArgs], m Message) error {
	d, skip, err := n.prepare(ctx, m)
	if err != nil || skip {
		return err
	}
	if !emailWanted(m.Template, d.Booking) {
		return delivery.Skipped("no email address, or no consent to email reminders")
	}
	token, err := n.store.MintManageToken(ctx, d.Booking.ID, m.ID)
	if err != nil {
		return fmt.Errorf("manage token: %w", err)
	}
	v := n.view(d, m, token)
	e := email{id: m.ID, to: d.Booking.Patient.Email}
	if e.subject, e.text, e.html, err = renderEmail(v); err != nil {
		return delivery.Permanent(err)
	}
	switch m.Template {
	case Confirmed, Rescheduled, Reminder, Cancelled:
		cancel := m.Template == Cancelled
		ics, err := CalendarFile(d, n.cfg.ClinicName, UIDDomain(n.cfg.PublicBaseURL), n.cfg.Email.FromAddress(), cancel)
		if err != nil {
			return delivery.Permanent(err)
		}
		method := "PUBLISH"
		if cancel {
			method = "CANCEL"
		}
		e.attachments = append(e.attachments, attachment{name: "appointment.ics",
			contentType: "text/calendar; charset=utf-8; method=" + method, data: ics})
	}
	if err := n.cfg.Email.send(ctx, e); err != nil {
		return err
	}
	if n.cfg.OnSent != nil {
		n.cfg.OnSent("email", m.since(j.CreatedAt))
	}
	return nil
}

// prepare loads a message's booking and tells whether the message is moot
// (a reminder for a booking that moved or is no longer confirmed).
func (n *Notifier) prepare(ctx context.Context, m Message) (Details, bool, error) {
	d, err := n.details(ctx, m)
	if errors.Is(err, booking.ErrNotFound) {
		return Details{}, false, delivery.Permanent(err)
	}
	if err != nil {
		return Details{}, false, err
	}
	if m.Template == Reminder {
		if d.Booking.Status != booking.StatusConfirmed {
			return Details{}, true, delivery.Skipped("the booking is no longer confirmed")
		}
		if m.SlotStart == nil || !d.Slot.StartAt.Equal(*m.SlotStart) {
			return Details{}, true, delivery.Skipped("the appointment has moved")
		}
	}
	return d, false, nil
}
