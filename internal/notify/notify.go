// Package notify tells patients about their bookings: email (SMTP) and text
// messages (Twilio), for each change of a booking and as a reminder before
// a confirmed appointment. The emails about the state of a booking go to the
// address the patient gave; contact_by_email governs email reminders only,
// and contact_by_sms every text message. The
// messages are written as jobs of the delivery queue by a relay that follows
// the live feed (Notifier.Relay), in the transaction that moves its cursor
// past each change's feed event, and built and sent by the queue's workers
// (see package delivery): what a
// message says is read when it is sent, and a manage token is minted for
// each message, so every manage link works. No message ever carries an
// intake answer.
package notify

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/calendar"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
)

// Template names what a message is about.
type Template string

// Message templates.
const (
	Received    Template = "received" // a request waiting for the clinic's confirmation
	Confirmed   Template = "confirmed"
	Declined    Template = "declined"
	Cancelled   Template = "cancelled"
	Rescheduled Template = "rescheduled"
	Expired     Template = "expired"
	Reminder    Template = "reminder"
)

// Message is a job's arguments: which message about which booking. The text
// is built when it is sent, from the booking as it is then.
type Message struct {
	// ID is the message's own stable id: the same on every attempt, sent
	// as the email's Message-ID and with the text message, so that a
	// repeat (after a crash mid-send) can be recognised.
	ID        string    `json:"message_id"`
	Template  Template  `json:"template" river:"unique"`
	BookingID uuid.UUID `json:"booking_id" river:"unique"`
	// SlotID and Version are the booking's slot and version right after the
	// change: the message tells of the appointment as the change left it,
	// and its calendar file carries that version as its SEQUENCE, however
	// late it is sent and whatever changed since.
	SlotID  uuid.UUID      `json:"slot_id"`
	Version int            `json:"version"`
	Status  booking.Status `json:"status"`
	// SlotStart is, for a reminder, the start it reminds of: a reminder
	// whose booking has moved since is dropped (the move scheduled its
	// own).
	SlotStart *time.Time `json:"slot_start,omitempty" river:"unique"`
	// Reason is the reason staff gave for a cancellation or decline.
	Reason string `json:"reason,omitempty"`
	// ChangedAt is when the change that caused the message was made (zero
	// for a reminder the sweep wrote).
	ChangedAt time.Time `json:"changed_at,omitzero"`
}

// since returns when m's cause happened: its change, or written (the job's
// creation) for a reminder.
func (m Message) since(written time.Time) time.Time {
	if m.ChangedAt.IsZero() {
		return written
	}
	return m.ChangedAt
}

// EmailArgs is a patient email job.
type EmailArgs Message

// Kind names the job kind.
func (EmailArgs) Kind() string { return KindEmail }

// SMSArgs is a patient text message job.
type SMSArgs Message

// Kind names the job kind.
func (SMSArgs) Kind() string { return KindSMS }

// Job kinds of patient messages.
const (
	KindEmail = "patient_email"
	KindSMS   = "patient_sms"
)

// ReminderSweepArgs is the periodic job that schedules reminders.
type ReminderSweepArgs struct{}

// Kind names the job kind.
func (ReminderSweepArgs) Kind() string { return "patient_reminder_sweep" }

// Reminders are scheduled by a sweep every reminderSweep, for the
// appointments whose reminder is due within reminderHorizon, or was due up
// to reminderLookback ago (an outage of every instance delays reminders,
// up to that long, rather than losing them). A booking change whose
// reminder is due sooner than the horizon schedules it at once; the sweep
// and the change cannot both schedule it (reminders are unique per
// booking, start and channel).
const (
	reminderSweep    = time.Minute
	reminderHorizon  = 3 * time.Minute
	reminderLookback = 30 * time.Minute
)

// Kinds are the job kinds of patient messages (the admin message routes
// list these).
var Kinds = []string{KindEmail, KindSMS, KindAlert}

// Config configures patient messages.
type Config struct {
	ClinicName     string
	ClinicPhone    string        // E.164; told to patients when their booking's location has no phone
	PublicBaseURL  string        // manage links start with it
	ReminderBefore time.Duration // 0: no reminders
	RetryBase      time.Duration // see delivery.Backoff; 0: delivery.DefaultSchedule
	Email          *Mailer       // nil: no email
	SMS            *SMSSender    // nil: no text messages
	AlertEmail     string        // CLINIC_ALERT_EMAIL: urgent requests are announced here; "" for none
	Log            *slog.Logger
	Now            func() time.Time
	// OnSent, if set, is told of each message the mail server or Twilio
	// accepted, with when the booking change that caused it was made (for
	// a reminder, when the sweep wrote it); the load tool measures delivery
	// lag with it.
	OnSent func(channel string, written time.Time)
}

// Notifier decides, writes and sends patient messages.
type Notifier struct {
	cfg   Config
	store *store.Store
	queue *delivery.Queue
	sent  *prometheus.CounterVec
}

// New returns a Notifier of the bookings in st. Like every follower of the
// live feed (see delivery.Follower): Register it before building the queue,
// Attach the queue after, and run Relay.
func New(cfg Config, st *store.Store) *Notifier {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Notifier{cfg: cfg, store: st, sent: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notifications_total",
		Help: "Patient message delivery attempts by channel (email, sms) and result (sent, retry, failed, skipped).",
	}, []string{"channel", "result"})}
}

// Collectors returns the package's metrics, to register.
func (n *Notifier) Collectors() []prometheus.Collector {
	behind := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "patient_messages_relay_behind",
		Help: "Live-feed events committed (booking changes, and waitlist steps, which cause no message here) that the patient-message relay has not passed yet.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		at, newest, ok, err := n.store.FeedCursor(ctx, RelayCursor)
		if err != nil || !ok {
			return 0
		}
		return float64(max(newest-at, 0))
	})
	return []prometheus.Collector{n.sent, behind}
}

// observe counts a delivery attempt's outcome (see delivery.Workers.OnOutcome).
func (n *Notifier) observe(kind string, o delivery.Outcome) {
	switch kind {
	case KindEmail:
		n.sent.WithLabelValues("email", string(o)).Inc()
	case KindSMS:
		n.sent.WithLabelValues("sms", string(o)).Inc()
	case KindAlert:
		n.sent.WithLabelValues("alert_email", string(o)).Inc()
	}
}

// Register adds the handlers of patient messages (email, SMS, the clinic's
// alerts and the reminder sweep) to ws, and counts their outcomes. Call it
// before delivery.New.
func (n *Notifier) Register(ws *delivery.Workers) {
	ws.OnOutcome(n.observe)
	var schedule delivery.Schedule
	if n.cfg.RetryBase > 0 {
		schedule = delivery.Backoff(n.cfg.RetryBase)
	}
	delivery.Register(ws, n.sendEmail, schedule)
	delivery.Register(ws, n.sendSMS, schedule)
	delivery.Register(ws, n.sendAlert, schedule)
	if n.cfg.ReminderBefore > 0 && (n.cfg.Email != nil || n.cfg.SMS != nil) {
		delivery.RegisterPeriodic(ws, n.sweepReminders, reminderSweep, ReminderSweepArgs{})
	}
}

// Attach gives n the queue it writes messages to. Call it once q exists,
// before Relay.
func (n *Notifier) Attach(q *delivery.Queue) { n.queue = q }

// RelayCursor names the live-feed cursor of patient messages (see
// store.FollowFeed).
const RelayCursor = "patient_messages"

// Relay writes the messages of booking changes as they commit, until ctx
// ends: it follows the live feed, where every change leaves an event in
// its own transaction, and writes each event's messages in the transaction
// that moves the relay's cursor past it. A change therefore has its
// messages written exactly once, shortly after it commits, whatever
// crashes in between; and a booking's own transaction writes nothing for
// them, so messages cost the booking request nothing. Every instance runs
// a relay; they take turns on the cursor.
//
// With email and text messages both off the relay still moves the cursor,
// so that turning them on later does not send the messages of old changes.
func (n *Notifier) Relay(ctx context.Context) {
	n.store.ReadFeed(ctx, RelayCursor, n.WriteMessages, n.cfg.Log)
}

// CatchUp writes the messages of every change committed so far that the
// relay has not passed, and returns once it has.
func (n *Notifier) CatchUp(ctx context.Context) error {
	return n.store.CatchUpFeed(ctx, RelayCursor, n.WriteMessages)
}

// WriteMessages writes, in tx, the messages that the booking changes of
// events cause (a store.FeedFunc; Relay passes it the feed).
func (n *Notifier) WriteMessages(ctx context.Context, tx *sql.Tx, events []store.FeedEvent) error {
	if n.queue == nil || (n.cfg.Email == nil && n.cfg.SMS == nil) {
		return nil
	}
	var msgs []delivery.Insert
	for _, e := range events {
		msgs = n.messagesOf(msgs, e)
	}
	if len(msgs) == 0 {
		return nil
	}
	// The newest state message of each booking and channel, in the same
	// transaction: what makes the older ones superseded (see inTurn).
	var notes []store.MessageNote
	for _, ins := range msgs {
		var m Message
		switch a := ins.Args.(type) {
		case EmailArgs:
			m = Message(a)
		case SMSArgs:
			m = Message(a)
		}
		if stateTemplate(m.Template) {
			notes = append(notes, store.MessageNote{BookingID: m.BookingID, Channel: channelOf(ins.Args.Kind()), Version: m.Version})
		}
	}
	if err := n.store.NoteMessagesTx(ctx, tx, notes); err != nil {
		return err
	}
	return n.queue.InsertTx(ctx, tx, msgs...)
}

// messagesOf appends to msgs the messages of one booking change; a
// waitlist step has none here (an offer's messages are written with the
// offer, see WaitlistOffers).
func (n *Notifier) messagesOf(msgs []delivery.Insert, e store.FeedEvent) []delivery.Insert {
	if e.Waitlist != nil {
		return msgs
	}
	b := e.Booking
	add := func(tpl Template, runAt time.Time, m Message) {
		m.ID, m.Template, m.BookingID = uuid.NewString(), tpl, b.ID
		m.SlotID, m.Version, m.Status, m.ChangedAt = b.SlotID, b.Version, b.Status, e.OccurredAt
		// A reminder is unique per booking, start and channel: confirming,
		// moving away and moving back does not remind twice.
		unique := tpl == Reminder
		if n.cfg.Email != nil && emailWanted(tpl, b) {
			msgs = append(msgs, delivery.Insert{Args: EmailArgs(m), RunAt: runAt, Unique: unique})
		}
		if n.cfg.SMS != nil && b.Consent.ContactBySMS && smsTemplates[tpl] && b.Patient.Phone != "" {
			m.ID = uuid.NewString()
			msgs = append(msgs, delivery.Insert{Args: SMSArgs(m), RunAt: runAt, Unique: unique})
		}
	}
	var tpl Template
	remind := false
	switch e.BookingEvent() {
	case booking.EventCreated:
		tpl = Received
		if b.Status == booking.StatusConfirmed {
			tpl, remind = Confirmed, true
		}
	case booking.EventConfirmed:
		tpl, remind = Confirmed, true
	case booking.EventDeclined:
		tpl = Declined
	case booking.EventCancelled:
		tpl = Cancelled
	case booking.EventRescheduled:
		tpl, remind = Rescheduled, b.Status == booking.StatusConfirmed
	case booking.EventExpired:
		tpl = Expired
	case booking.EventFlagged:
		// For the clinic, not the patient: nothing implies a booking to
		// them beyond the created event's own message.
		return n.alertOf(msgs, e)
	default:
		return msgs
	}
	m := Message{}
	if tpl == Cancelled || tpl == Declined {
		m.Reason = e.StaffReason
	}
	add(tpl, time.Time{}, m)
	// A reminder before a confirmed appointment, unless its time has
	// passed already (booked or confirmed late): none then. Only one due
	// soon is written now; the sweep schedules the others when their time
	// comes near, so a booking change writes no more than its own
	// messages.
	if remind && n.cfg.ReminderBefore > 0 && b.Status == booking.StatusConfirmed {
		at := e.Slot.StartAt.Add(-n.cfg.ReminderBefore)
		now := n.cfg.Now()
		if at.After(now) && at.Before(now.Add(reminderHorizon)) {
			start := e.Slot.StartAt.UTC()
			add(Reminder, at, Message{SlotStart: &start})
		}
	}
	return msgs
}

// emailWanted reports whether b's patient gets the email tpl: the emails
// about the state of the booking go to the address the patient gave for
// it, whatever they ticked; contact_by_email governs email reminders only.
func emailWanted(tpl Template, b booking.Booking) bool {
	if b.Patient.Email == "" {
		return false
	}
	return tpl != Reminder || b.Consent.ContactByEmail
}

// sweepReminders schedules the reminders due within the horizon (or
// missed by less than the lookback): confirmed bookings settled (made,
// confirmed or moved) before their reminder's time.
func (n *Notifier) sweepReminders(ctx context.Context, _ delivery.Job[ReminderSweepArgs]) error {
	now := n.cfg.Now()
	before := n.cfg.ReminderBefore
	upcoming, err := n.store.ConfirmedStarting(ctx, now.Add(-reminderLookback).Add(before), now.Add(reminderHorizon).Add(before))
	if err != nil {
		return err
	}
	var msgs []delivery.Insert
	for _, u := range upcoming {
		b := u.Booking
		at := u.SlotStart.Add(-before)
		if u.SettledAt.After(at) {
			continue
		}
		start := u.SlotStart
		m := Message{Template: Reminder, BookingID: b.ID, SlotStart: &start, SlotID: b.SlotID, Version: b.Version, Status: b.Status}
		if n.cfg.Email != nil && emailWanted(Reminder, b) {
			m.ID = uuid.NewString()
			msgs = append(msgs, delivery.Insert{Args: EmailArgs(m), RunAt: at, Unique: true})
		}
		if n.cfg.SMS != nil && b.Consent.ContactBySMS && b.Patient.Phone != "" {
			m.ID = uuid.NewString()
			msgs = append(msgs, delivery.Insert{Args: SMSArgs(m), RunAt: at, Unique: true})
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return n.queue.Insert(ctx, msgs...)
}

// Details is everything a message or calendar file says about a booking.
type Details struct {
	Booking  booking.Booking
	Slot     booking.Slot
	Type     booking.ConsultationType
	Provider booking.Provider
	Location booking.Location
	Zone     *time.Location
}

// LoadDetails reads a booking with its slot and catalogue entries.
func LoadDetails(ctx context.Context, st *store.Store, b booking.Booking, slot booking.Slot) (Details, error) {
	d := Details{Booking: b, Slot: slot}
	var err error
	if d.Type, err = st.ConsultationType(ctx, slot.ConsultationTypeID); err != nil {
		return Details{}, fmt.Errorf("booking details: %w", err)
	}
	if d.Provider, err = st.Provider(ctx, slot.ProviderID); err != nil {
		return Details{}, fmt.Errorf("booking details: %w", err)
	}
	if d.Location, err = st.Location(ctx, slot.LocationID); err != nil {
		return Details{}, fmt.Errorf("booking details: %w", err)
	}
	if d.Zone, err = time.LoadLocation(d.Location.Timezone); err != nil {
		return Details{}, fmt.Errorf("booking details: time zone: %w", err)
	}
	return d, nil
}

// details loads what message m tells of: the booking with the slot,
// version and status the change left it in. A reminder tells of the
// booking as it is now.
func (n *Notifier) details(ctx context.Context, m Message) (Details, error) {
	b, slot, err := n.store.Booking(ctx, m.BookingID)
	if err != nil {
		return Details{}, err
	}
	if m.Template != Reminder && m.SlotID != uuid.Nil && m.SlotID != slot.ID {
		if slot, err = n.store.Slot(ctx, m.SlotID); err != nil {
			return Details{}, err
		}
	}
	if m.Template != Reminder && m.Version > 0 {
		b.Version, b.Status = m.Version, m.Status
	}
	return LoadDetails(ctx, n.store, b, slot)
}

// CalendarFile returns the patient's iCalendar file for a booking, as its
// status and version are in d.Booking: METHOD PUBLISH, or with cancel
// METHOD CANCEL, to withdraw it. uidDomain makes the event's UID (the
// booking id at that domain); organizer, when set, is the clinic's address.
func CalendarFile(d Details, clinic, uidDomain, organizer string, cancel bool) ([]byte, error) {
	status := calendar.Confirmed
	switch d.Booking.Status {
	case booking.StatusPending:
		status = calendar.Tentative
	case booking.StatusCancelled, booking.StatusDeclined, booking.StatusExpired:
		status = calendar.Cancelled
	}
	method := calendar.Publish
	if cancel {
		method, status = calendar.Cancel, calendar.Cancelled
	}
	summary, description, lang, err := calendarText(d, clinic, "")
	if err != nil {
		return nil, err
	}
	where := d.Location.Localized(lang).Name
	if lang == booking.Locales[0] {
		lang = "" // English files say nothing of it, as before languages were recorded
	}
	if addr := oneLine(d.Location.Address); addr != "" {
		where += ", " + addr
	}
	c := calendar.Calendar{
		ProductID: "-//" + clinic + "//Consultation booking//EN",
		Method:    method,
		Events: []calendar.Event{{
			UID:         d.Booking.ID.String() + "@" + uidDomain,
			Sequence:    max(d.Booking.Version-1, 0),
			Status:      status,
			Start:       d.Slot.StartAt,
			End:         d.Slot.EndAt,
			Zone:        d.Zone,
			Summary:     summary,
			Location:    where,
			Description: description,
			Language:    lang,
			Updated:     d.Booking.UpdatedAt,
		}},
	}
	if organizer != "" {
		c.Organizer = "mailto:" + organizer
	}
	return calendar.Encode(c)
}

// UIDDomain is the domain of calendar UIDs: the host of the public base URL.
func UIDDomain(publicBaseURL string) string {
	if u, err := url.Parse(publicBaseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "booking.invalid"
}

func oneLine(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return strings.Join(parts, ", ")
}

// manageURL is the patient's manage link; the reference and token are in
// the fragment, which browsers never send to a server.
func (n *Notifier) manageURL(reference, token string) string {
	return n.cfg.PublicBaseURL + "/manage#reference=" + url.QueryEscape(reference) + "&token=" + url.QueryEscape(token)
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
