package notify

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
)

// KindAlert is the job kind of the clinic's alert email: a request the
// triage rules marked urgent (booking.EventFlagged), announced to
// CLINIC_ALERT_EMAIL.
const KindAlert = "clinic_alert_email"

// AlertArgs is a clinic alert email job.
type AlertArgs struct {
	// ID is the message's stable id, sent as its Message-ID.
	ID        string    `json:"message_id"`
	BookingID uuid.UUID `json:"booking_id" river:"unique"`
	ChangedAt time.Time `json:"changed_at,omitzero"`
}

// Kind names the job kind.
func (AlertArgs) Kind() string { return KindAlert }

// alertOf appends the alert of a flagged booking to msgs, when an alert
// address and email are configured. The alert is a job of the same queue
// as patient messages: retried, visible to admins when it fails, and never
// in the way of the booking, which committed before it was written.
func (n *Notifier) alertOf(msgs []delivery.Insert, e store.FeedEvent) []delivery.Insert {
	if n.cfg.AlertEmail == "" || n.cfg.Email == nil {
		return msgs
	}
	return append(msgs, delivery.Insert{Args: AlertArgs{ID: uuid.NewString(), BookingID: e.Booking.ID, ChangedAt: e.OccurredAt}})
}

// sendAlert is the handler of clinic alert email jobs. The email names the
// booking (reference, consultation, time) and says it is urgent; why, and
// who the patient is, staff read in the booking's staff view: no health
// information and no patient details travel by email.
func (n *Notifier) sendAlert(ctx context.Context, j delivery.Job[AlertArgs]) error {
	if n.cfg.Email == nil || n.cfg.AlertEmail == "" {
		return delivery.Permanent(errors.New("alert email is not configured (SMTP_URL, CLINIC_ALERT_EMAIL)"))
	}
	b, slot, err := n.store.Booking(ctx, j.Args.BookingID)
	if errors.Is(err, booking.ErrNotFound) {
		return delivery.Permanent(err)
	}
	if err != nil {
		return err
	}
	d, err := LoadDetails(ctx, n.store, b, slot)
	if err != nil {
		return err
	}
	when := slot.StartAt.In(d.Zone).Format("Monday 2 January 2006, 15:04 MST") + " (" + d.Zone.String() + ")"
	subject := fmt.Sprintf("Urgent booking request %s: please review today", b.Reference)
	lines := []string{
		"A booking request was marked urgent by the intake's red-flag questions.",
		"Please review it and contact the patient soon: it is listed first among the pending requests.",
		"",
		"Reference: " + b.Reference,
		"Consultation: " + d.Type.Name + " with " + d.Provider.Name,
		"Requested time: " + when,
		"Status: " + string(b.Status),
	}
	var h strings.Builder
	h.WriteString("<!DOCTYPE html><html><body>")
	for _, l := range lines {
		if l == "" {
			continue
		}
		h.WriteString("<p>" + html.EscapeString(l) + "</p>")
	}
	h.WriteString("</body></html>")
	e := email{id: j.Args.ID, to: n.cfg.AlertEmail, subject: subject, text: strings.Join(lines, "\n") + "\n", html: h.String()}
	return n.cfg.Email.send(ctx, e)
}
