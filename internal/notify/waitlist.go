package notify

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
)

// Waitlist offers: the third follower of the live feed (see
// delivery.Follower). For each booking change that frees a place
// (cancelled, declined, expired), in the transaction that moves its cursor
// past the change, it offers the place to the first matching waiting entry
// (store.OfferFreedTx: the place is held for the entry as a slot hold) and
// writes the offer's email and text message jobs. A periodic sweep ends
// the offers whose hold lapsed and passes the places of lapsed, declined
// and withdrawn offers to the next entries, in one transaction with their
// messages. Offers are written in the transactions that make them, so a
// crash loses none and sends none twice over (at most a message in flight
// is sent again, with the same id).

// WaitlistConfig configures waitlist offers.
type WaitlistConfig struct {
	Messages Config         // the clinic's name, PublicBaseURL, Email and SMS, Log, Now
	OfferTTL time.Duration  // WAITLIST_OFFER_TTL: how long an offer holds its place; 0 means 30 minutes
	Policy   booking.Policy // which places the public may take (PublicHoldable)
	// SweepEvery is how often lapsed and declined offers are passed on; 0
	// means 15 seconds.
	SweepEvery time.Duration
}

// WaitlistOfferArgs is a waitlist offer message job: which offer to tell
// the entry's patient of.
type WaitlistOfferArgs struct {
	ID      string    `json:"message_id"`
	EntryID uuid.UUID `json:"entry_id"`
	OfferID uuid.UUID `json:"offer_id"`
}

// WaitlistEmailArgs is a waitlist offer email job.
type WaitlistEmailArgs WaitlistOfferArgs

// Kind names the job kind.
func (WaitlistEmailArgs) Kind() string { return KindWaitlistEmail }

// WaitlistSMSArgs is a waitlist offer text message job.
type WaitlistSMSArgs WaitlistOfferArgs

// Kind names the job kind.
func (WaitlistSMSArgs) Kind() string { return KindWaitlistSMS }

// WaitlistSweepArgs is the periodic job that passes ended offers on.
type WaitlistSweepArgs struct{}

// Kind names the job kind.
func (WaitlistSweepArgs) Kind() string { return "waitlist_pass_on" }

// Job kinds of waitlist offer messages.
const (
	KindWaitlistEmail = "waitlist_offer_email"
	KindWaitlistSMS   = "waitlist_offer_sms"
)

// WaitlistCursor names the live-feed cursor of waitlist offers.
const WaitlistCursor = "waitlist_offers"

// WaitlistOffers offers freed places to the waitlist and tells patients.
type WaitlistOffers struct {
	cfg   WaitlistConfig
	store *store.Store
	queue *delivery.Queue
}

// NewWaitlistOffers returns the waitlist follower of st. Like every
// follower of the live feed: Register it before building the queue,
// Attach the queue after, and run Relay.
func NewWaitlistOffers(cfg WaitlistConfig, st *store.Store) *WaitlistOffers {
	if cfg.OfferTTL <= 0 {
		cfg.OfferTTL = 30 * time.Minute
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 15 * time.Second
	}
	if cfg.Messages.Now == nil {
		cfg.Messages.Now = time.Now
	}
	return &WaitlistOffers{cfg: cfg, store: st}
}

// Register adds the handlers of offer and link messages and the pass-on
// sweep.
func (w *WaitlistOffers) Register(ws *delivery.Workers) {
	delivery.Register(ws, w.sendEmail, nil)
	delivery.Register(ws, w.sendSMS, nil)
	delivery.Register(ws, w.sendLinkEmail, nil)
	delivery.Register(ws, w.sendLinkSMS, nil)
	delivery.RegisterPeriodic(ws, w.sweep, w.cfg.SweepEvery, WaitlistSweepArgs{})
}

// Attach gives w the queue it writes messages to.
func (w *WaitlistOffers) Attach(q *delivery.Queue) { w.queue = q }

// Collectors returns the follower's metrics: none of its own. The
// waitlist's figures (waitlist_offers_total and the rest) are read from
// the database by the server's collector, so that every instance reports
// the clinic's totals and not the offers its own reader happened to make.
func (w *WaitlistOffers) Collectors() []prometheus.Collector { return nil }

// Relay offers freed places as their changes commit, until ctx ends.
func (w *WaitlistOffers) Relay(ctx context.Context) {
	w.store.ReadFeed(ctx, WaitlistCursor, w.OfferFreed, w.cfg.Messages.Log)
}

// CatchUp offers the places freed by every change committed so far that
// the relay has not passed, and returns once it has.
func (w *WaitlistOffers) CatchUp(ctx context.Context) error {
	return w.store.CatchUpFeed(ctx, WaitlistCursor, w.OfferFreed)
}

func (w *WaitlistOffers) freed() store.FreedPlaceOffer {
	return store.FreedPlaceOffer{
		Expires: func(now time.Time) time.Time { return now.Add(w.cfg.OfferTTL) },
		Check:   func(info booking.SlotInfo, now time.Time) error { return w.cfg.Policy.PublicHoldable(info, now) },
	}
}

// OfferFreed is the store.FeedFunc of the relay.
func (w *WaitlistOffers) OfferFreed(ctx context.Context, tx *sql.Tx, events []store.FeedEvent) error {
	made, err := w.store.OfferFreedTx(ctx, tx, events, w.freed())
	if err != nil {
		return err
	}
	return w.tell(ctx, tx, made)
}

// sweep passes ended offers on (see the top of this file).
func (w *WaitlistOffers) sweep(ctx context.Context, _ delivery.Job[WaitlistSweepArgs]) error {
	return w.store.PassOn(ctx, w.freed(), func(tx *sql.Tx, made []store.MadeOffer) error { return w.tell(ctx, tx, made) })
}

// tell writes, in tx, the messages of the offers made.
func (w *WaitlistOffers) tell(ctx context.Context, tx *sql.Tx, made []store.MadeOffer) error {
	if w.queue == nil {
		return nil
	}
	var msgs []delivery.Insert
	for _, m := range made {
		e := m.Entry
		if e.Offer == nil {
			continue
		}
		args := WaitlistOfferArgs{EntryID: e.ID, OfferID: e.Offer.ID}
		if w.cfg.Messages.Email != nil && e.Consent.ContactByEmail && e.Patient.Email != "" {
			args.ID = uuid.NewString()
			msgs = append(msgs, delivery.Insert{Args: WaitlistEmailArgs(args)})
		}
		if w.cfg.Messages.SMS != nil && e.Consent.ContactBySMS && e.Patient.Phone != "" {
			args.ID = uuid.NewString()
			msgs = append(msgs, delivery.Insert{Args: WaitlistSMSArgs(args)})
		}
	}
	return w.queue.InsertTx(ctx, tx, msgs...)
}

// prepareOffer loads the offer a message is about; a message whose offer
// has ended is skipped.
func (w *WaitlistOffers) prepareOffer(ctx context.Context, a WaitlistOfferArgs) (booking.WaitlistEntry, waitlistView, error) {
	e, err := w.store.WaitlistEntry(ctx, a.EntryID)
	if errors.Is(err, booking.ErrNotFound) {
		return booking.WaitlistEntry{}, waitlistView{}, delivery.Permanent(err)
	}
	if err != nil {
		return booking.WaitlistEntry{}, waitlistView{}, err
	}
	if e.Status != booking.WaitlistOffered || e.Offer == nil || e.Offer.ID != a.OfferID {
		return booking.WaitlistEntry{}, waitlistView{}, delivery.Skipped("the offer has ended")
	}
	slot, err := w.store.Slot(ctx, e.Offer.SlotID)
	if err != nil {
		return booking.WaitlistEntry{}, waitlistView{}, err
	}
	locale := booking.PickLocale(e.Locale)
	v := waitlistView{Locale: locale, Clinic: w.cfg.Messages.ClinicName, FirstName: e.Patient.FirstName, Reference: e.Reference}
	loc := time.UTC
	if l, err := w.store.Location(ctx, slot.LocationID); err == nil {
		if z, err := time.LoadLocation(l.Timezone); err == nil {
			loc = z
		}
		l = l.Localized(locale)
		v.Address = strings.TrimSpace(l.Name + ", " + l.Address)
	}
	if ct, err := w.store.ConsultationType(ctx, slot.ConsultationTypeID); err == nil {
		v.Type = ct.Localized(locale).Name
	}
	v.When = longWhen(locale, slot.StartAt.In(loc))
	v.ShortWhen = shortWhen(locale, slot.StartAt.In(loc))
	v.Until = untilWhen(locale, e.Offer.ExpiresAt.In(loc))
	if v.Link, err = w.entryLink(ctx, e); err != nil {
		return booking.WaitlistEntry{}, waitlistView{}, err
	}
	return e, v, nil
}

// entryLink is a new link to e's page on the waitlist, with a token of its
// own (minted when the message is sent, so no job holds a token).
func (w *WaitlistOffers) entryLink(ctx context.Context, e booking.WaitlistEntry) (string, error) {
	token, err := w.store.MintWaitlistToken(ctx, e.ID)
	if err != nil {
		return "", err
	}
	return w.cfg.Messages.PublicBaseURL + "/waitlist#reference=" + url.QueryEscape(e.Reference) + "&token=" + url.QueryEscape(token), nil
}

// untilWhen is the end of an offer: "15:04 MST on 2 January", "15:04 MST
// del 2 de enero".
func untilWhen(locale string, t time.Time) string {
	if locale == "es" {
		return fmt.Sprintf("%s del %d de %s", t.Format("15:04 MST"), t.Day(), esMonths[t.Month()-1])
	}
	return t.Format("15:04 MST on 2 January")
}

// dayText is a local date in full: "2 January 2026", "2 de enero de 2026".
func dayText(locale string, d booking.Date) string {
	t := d.StartIn(time.UTC)
	if locale == "es" {
		return fmt.Sprintf("%d de %s de %d", t.Day(), esMonths[t.Month()-1], t.Year())
	}
	return t.Format("2 January 2006")
}

// waitlistView is what the waitlist templates see (templates/waitlist.*),
// in the entry's language. It holds no intake answer.
type waitlistView struct {
	Locale    string
	Clinic    string
	FirstName string
	Type      string
	Reference string // the entry's
	Link      string // the entry's page, with a token of its own
	When      string // an offer's local start, with its zone
	ShortWhen string // the same for a text message: "mie 9 dic 11:15 PST"
	Until     string // an offer's end, in the same zone
	Address   string // an offer's location: its name and address
	Earliest  string // a link message's first date asked for
	Latest    string // a link message's last date asked for
}

// waitlistWording is what the waitlist messages say in one language.
type waitlistWording struct {
	text *texttemplate.Template // subjects, plain-text emails, text messages
	html *htmltemplate.Template // HTML emails
}

// waitlistWordings are the waitlist messages by language, one for each of
// booking.Locales: the words in templates/waitlist.LANG.tmpl, the email
// layouts in waitlist.txt.tmpl and waitlist.html.tmpl.
var waitlistWordings = func() map[string]waitlistWording {
	out := map[string]waitlistWording{}
	for _, l := range booking.Locales {
		words := "templates/waitlist." + l + ".tmpl"
		out[l] = waitlistWording{
			text: texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/waitlist.txt.tmpl", words)),
			html: htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/waitlist.html.tmpl", words)),
		}
	}
	return out
}()

// renderWaitlistEmail renders the email of a waitlist message, kind "offer"
// or "link", in v's language (English when there is none).
func renderWaitlistEmail(kind string, v waitlistView) (email, error) {
	w, ok := waitlistWordings[v.Locale]
	if !ok {
		w = waitlistWordings[booking.Locales[0]]
	}
	var b bytes.Buffer
	if err := w.text.ExecuteTemplate(&b, kind+".subject", v); err != nil {
		return email{}, fmt.Errorf("render %s subject: %w", kind, err)
	}
	m := email{subject: strings.TrimSpace(b.String())}
	b.Reset()
	if err := w.text.ExecuteTemplate(&b, kind+".text", v); err != nil {
		return email{}, fmt.Errorf("render %s text: %w", kind, err)
	}
	m.text = b.String()
	b.Reset()
	if err := w.html.ExecuteTemplate(&b, kind+".html", v); err != nil {
		return email{}, fmt.Errorf("render %s html: %w", kind, err)
	}
	m.html = b.String()
	return m, nil
}

// renderWaitlistSMS renders the text message of a waitlist message, kind
// "offer" or "link", in v's language.
func renderWaitlistSMS(kind string, v waitlistView) (string, error) {
	w, ok := waitlistWordings[v.Locale]
	if !ok {
		w = waitlistWordings[booking.Locales[0]]
	}
	var b bytes.Buffer
	if err := w.text.ExecuteTemplate(&b, kind+".sms", v); err != nil {
		return "", fmt.Errorf("render %s text message: %w", kind, err)
	}
	return strings.TrimSpace(b.String()), nil
}

func (w *WaitlistOffers) sendEmail(ctx context.Context, j delivery.Job[WaitlistEmailArgs]) error {
	if w.cfg.Messages.Email == nil {
		return delivery.Permanent(errors.New("email is not configured (SMTP_URL)"))
	}
	a := WaitlistOfferArgs(j.Args)
	e, v, err := w.prepareOffer(ctx, a)
	if err != nil {
		return err
	}
	m, err := renderWaitlistEmail("offer", v)
	if err != nil {
		return delivery.Permanent(err)
	}
	m.id, m.to = a.ID, e.Patient.Email
	return w.cfg.Messages.Email.send(ctx, m)
}

func (w *WaitlistOffers) sendSMS(ctx context.Context, j delivery.Job[WaitlistSMSArgs]) error {
	if w.cfg.Messages.SMS == nil {
		return delivery.Permanent(errors.New("text messages are not configured (TWILIO_ACCOUNT_SID)"))
	}
	a := WaitlistOfferArgs(j.Args)
	e, v, err := w.prepareOffer(ctx, a)
	if err != nil {
		return err
	}
	phone := strings.Join(strings.Fields(e.Patient.Phone), "")
	if !e164.MatchString(phone) {
		return delivery.Permanent(errors.New("the patient's phone number is not in E.164 form (+ and country code)"))
	}
	body, err := renderWaitlistSMS("offer", v)
	if err != nil {
		return delivery.Permanent(err)
	}
	return w.cfg.Messages.SMS.send(ctx, a.ID, phone, body)
}

// WaitlistLinkArgs is a message that sends a waitlist entry's link again,
// to a patient who joined a second time with the same details.
type WaitlistLinkArgs struct {
	ID      string    `json:"message_id"`
	EntryID uuid.UUID `json:"entry_id"`
}

// WaitlistLinkEmailArgs is the email of an entry's link sent again.
type WaitlistLinkEmailArgs WaitlistLinkArgs

// Kind names the job kind.
func (WaitlistLinkEmailArgs) Kind() string { return KindWaitlistLinkEmail }

// WaitlistLinkSMSArgs is the text message of an entry's link sent again.
type WaitlistLinkSMSArgs WaitlistLinkArgs

// Kind names the job kind.
func (WaitlistLinkSMSArgs) Kind() string { return KindWaitlistLinkSMS }

// Job kinds of a waitlist entry's link sent again.
const (
	KindWaitlistLinkEmail = "waitlist_link_email"
	KindWaitlistLinkSMS   = "waitlist_link_sms"
)

// ResendLinkTx writes, in tx, the messages that send e's link to its
// patient again: an email and a text message, each when its channel is
// configured, the entry consented to it and has the address (as offers
// go). It reports whether it wrote any. It is httpapi.WaitlistLinks; the
// store calls it in the transaction of the repeated join, so that each
// repeat sends the link once (store.JoinWaitlist).
func (w *WaitlistOffers) ResendLinkTx(ctx context.Context, tx *sql.Tx, e booking.WaitlistEntry) (bool, error) {
	if w.queue == nil {
		return false, nil
	}
	var msgs []delivery.Insert
	if w.cfg.Messages.Email != nil && e.Consent.ContactByEmail && e.Patient.Email != "" {
		msgs = append(msgs, delivery.Insert{Args: WaitlistLinkEmailArgs{ID: uuid.NewString(), EntryID: e.ID}})
	}
	if w.cfg.Messages.SMS != nil && e.Consent.ContactBySMS && e.Patient.Phone != "" {
		msgs = append(msgs, delivery.Insert{Args: WaitlistLinkSMSArgs{ID: uuid.NewString(), EntryID: e.ID}})
	}
	if len(msgs) == 0 {
		return false, nil
	}
	if err := w.queue.InsertTx(ctx, tx, msgs...); err != nil {
		return false, fmt.Errorf("write the waitlist link messages: %w", err)
	}
	return true, nil
}

// prepareLink loads the entry a link message is about; a message for an
// entry no longer on the waitlist is skipped.
func (w *WaitlistOffers) prepareLink(ctx context.Context, a WaitlistLinkArgs) (booking.WaitlistEntry, waitlistView, error) {
	e, err := w.store.WaitlistEntry(ctx, a.EntryID)
	if errors.Is(err, booking.ErrNotFound) {
		return booking.WaitlistEntry{}, waitlistView{}, delivery.Permanent(err)
	}
	if err != nil {
		return booking.WaitlistEntry{}, waitlistView{}, err
	}
	if !e.Status.Live() {
		return booking.WaitlistEntry{}, waitlistView{}, delivery.Skipped("the entry is no longer on the waitlist")
	}
	locale := booking.PickLocale(e.Locale)
	v := waitlistView{Locale: locale, Clinic: w.cfg.Messages.ClinicName, FirstName: e.Patient.FirstName, Reference: e.Reference,
		Earliest: dayText(locale, e.Earliest), Latest: dayText(locale, e.Latest)}
	if ct, err := w.store.ConsultationType(ctx, e.ConsultationTypeID); err == nil {
		v.Type = ct.Localized(locale).Name
	}
	if v.Link, err = w.entryLink(ctx, e); err != nil {
		return booking.WaitlistEntry{}, waitlistView{}, err
	}
	return e, v, nil
}

func (w *WaitlistOffers) sendLinkEmail(ctx context.Context, j delivery.Job[WaitlistLinkEmailArgs]) error {
	if w.cfg.Messages.Email == nil {
		return delivery.Permanent(errors.New("email is not configured (SMTP_URL)"))
	}
	a := WaitlistLinkArgs(j.Args)
	e, v, err := w.prepareLink(ctx, a)
	if err != nil {
		return err
	}
	m, err := renderWaitlistEmail("link", v)
	if err != nil {
		return delivery.Permanent(err)
	}
	m.id, m.to = a.ID, e.Patient.Email
	return w.cfg.Messages.Email.send(ctx, m)
}

func (w *WaitlistOffers) sendLinkSMS(ctx context.Context, j delivery.Job[WaitlistLinkSMSArgs]) error {
	if w.cfg.Messages.SMS == nil {
		return delivery.Permanent(errors.New("text messages are not configured (TWILIO_ACCOUNT_SID)"))
	}
	a := WaitlistLinkArgs(j.Args)
	e, v, err := w.prepareLink(ctx, a)
	if err != nil {
		return err
	}
	phone := strings.Join(strings.Fields(e.Patient.Phone), "")
	if !e164.MatchString(phone) {
		return delivery.Permanent(errors.New("the patient's phone number is not in E.164 form (+ and country code)"))
	}
	body, err := renderWaitlistSMS("link", v)
	if err != nil {
		return delivery.Permanent(err)
	}
	return w.cfg.Messages.SMS.send(ctx, a.ID, phone, body)
}

// Config returns n's configuration, so that waitlist offers speak with
// the same clinic name, links and channels.
func (n *Notifier) Config() Config { return n.cfg }
