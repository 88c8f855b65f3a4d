package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strings"
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

// Register adds the handlers of offer messages and the pass-on sweep.
func (w *WaitlistOffers) Register(ws *delivery.Workers) {
	delivery.Register(ws, w.sendEmail, nil)
	delivery.Register(ws, w.sendSMS, nil)
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

// offerView is what an offer message says.
type offerView struct {
	entry   booking.WaitlistEntry
	typ     string
	when    string // the local start, with its zone
	until   string // the offer's end, in the same zone
	link    string
	clinic  string
	address string
}

// prepareOffer loads the offer a message is about; a message whose offer
// has ended is skipped.
func (w *WaitlistOffers) prepareOffer(ctx context.Context, a WaitlistOfferArgs) (offerView, error) {
	e, err := w.store.WaitlistEntry(ctx, a.EntryID)
	if errors.Is(err, booking.ErrNotFound) {
		return offerView{}, delivery.Permanent(err)
	}
	if err != nil {
		return offerView{}, err
	}
	if e.Status != booking.WaitlistOffered || e.Offer == nil || e.Offer.ID != a.OfferID {
		return offerView{}, delivery.Skipped("the offer has ended")
	}
	slot, err := w.store.Slot(ctx, e.Offer.SlotID)
	if err != nil {
		return offerView{}, err
	}
	v := offerView{entry: e, clinic: w.cfg.Messages.ClinicName}
	loc := time.UTC
	if l, err := w.store.Location(ctx, slot.LocationID); err == nil {
		if z, err := time.LoadLocation(l.Timezone); err == nil {
			loc = z
		}
		v.address = strings.TrimSpace(l.Name + ", " + l.Address)
	}
	if ct, err := w.store.ConsultationType(ctx, slot.ConsultationTypeID); err == nil {
		v.typ = ct.Name
	}
	v.when = slot.StartAt.In(loc).Format("Monday 2 January 2006, 15:04 MST")
	v.until = e.Offer.ExpiresAt.In(loc).Format("15:04 MST on 2 January")
	token, err := w.store.MintWaitlistToken(ctx, e.ID)
	if err != nil {
		return offerView{}, err
	}
	v.link = w.cfg.Messages.PublicBaseURL + "/waitlist#reference=" + url.QueryEscape(e.Reference) + "&token=" + url.QueryEscape(token)
	return v, nil
}

func (w *WaitlistOffers) sendEmail(ctx context.Context, j delivery.Job[WaitlistEmailArgs]) error {
	if w.cfg.Messages.Email == nil {
		return delivery.Permanent(errors.New("email is not configured (SMTP_URL)"))
	}
	a := WaitlistOfferArgs(j.Args)
	v, err := w.prepareOffer(ctx, a)
	if err != nil {
		return err
	}
	subject := fmt.Sprintf("A place is free for you: %s, %s", v.typ, v.when)
	text := fmt.Sprintf("Hello %s,\n\nA place has become free at %s: %s, %s, at %s.\n\n"+
		"It is kept for you until %s. To book it, or to let it go to the next patient, open:\n%s\n\n"+
		"Your waitlist reference: %s\n", v.entry.Patient.FirstName, v.clinic, v.typ, v.when, v.address, v.until, v.link, v.entry.Reference)
	body := fmt.Sprintf("<p>Hello %s,</p><p>A place has become free at %s: <strong>%s, %s</strong>, at %s.</p>"+
		"<p>It is kept for you until %s.</p><p><a href=\"%s\">Book it or let it go</a></p><p>Your waitlist reference: %s</p>",
		html.EscapeString(v.entry.Patient.FirstName), html.EscapeString(v.clinic), html.EscapeString(v.typ), html.EscapeString(v.when),
		html.EscapeString(v.address), html.EscapeString(v.until), html.EscapeString(v.link), html.EscapeString(v.entry.Reference))
	return w.cfg.Messages.Email.send(ctx, email{id: a.ID, to: v.entry.Patient.Email, subject: subject, text: text, html: body})
}

func (w *WaitlistOffers) sendSMS(ctx context.Context, j delivery.Job[WaitlistSMSArgs]) error {
	if w.cfg.Messages.SMS == nil {
		return delivery.Permanent(errors.New("text messages are not configured (TWILIO_ACCOUNT_SID)"))
	}
	a := WaitlistOfferArgs(j.Args)
	v, err := w.prepareOffer(ctx, a)
	if err != nil {
		return err
	}
	phone := strings.Join(strings.Fields(v.entry.Patient.Phone), "")
	if !e164.MatchString(phone) {
		return delivery.Permanent(errors.New("the patient's phone number is not in E.164 form (+ and country code)"))
	}
	body := fmt.Sprintf("%s: a place is free for you, %s, %s. Kept until %s: %s", v.clinic, v.typ, v.when, v.until, v.link)
	return w.cfg.Messages.SMS.send(ctx, a.ID, phone, body)
}

// Config returns n's configuration, so that waitlist offers speak with
// the same clinic name, links and channels.
func (n *Notifier) Config() Config { return n.cfg }
