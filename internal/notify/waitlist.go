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

// offerView is what an offer message says, in the entry's language.
type offerView struct {
	entry   booking.WaitlistEntry
	locale  string
	typ     string
	when    string // the local start, with its zone
	short   string // the same for a text message: "mie 9 dic 11:15 PST"
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
	locale := booking.PickLocale(e.Locale)
	v := offerView{entry: e, locale: locale, clinic: w.cfg.Messages.ClinicName}
	loc := time.UTC
	if l, err := w.store.Location(ctx, slot.LocationID); err == nil {
		if z, err := time.LoadLocation(l.Timezone); err == nil {
			loc = z
		}
		l = l.Localized(locale)
		v.address = strings.TrimSpace(l.Name + ", " + l.Address)
	}
	if ct, err := w.store.ConsultationType(ctx, slot.ConsultationTypeID); err == nil {
		v.typ = ct.Localized(locale).Name
	}
	v.when = longWhen(locale, slot.StartAt.In(loc))
	v.short = shortWhen(locale, slot.StartAt.In(loc))
	v.until = untilWhen(locale, e.Offer.ExpiresAt.In(loc))
	if v.link, err = w.entryLink(ctx, e); err != nil {
		return offerView{}, err
	}
	return v, nil
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

// waitlistWords are the waitlist messages in each language of
// booking.Locales (fmt formats; their verbs are listed with each).
type waitlistWords struct {
	offerSubject string // type, when
	offerText    string // first name, clinic, type, when, address, until, link, reference
	offerHTML    string // the same, escaped
	offerSMS     string // clinic, type, short when, until, link
	linkSubject  string // reference
	linkText     string // first name, clinic, type, earliest, latest, link, reference
	linkHTML     string // the same, escaped
	linkSMS      string // clinic, reference, link
}

var waitlistWording = map[string]waitlistWords{
	"en": {
		offerSubject: "A place is free for you: %s, %s",
		offerText: "Hello %s,\n\nA place has become free at %s: %s, %s, at %s.\n\n" +
			"It is kept for you until %s. To book it, or to let it go to the next patient, open:\n%s\n\n" +
			"Your waitlist reference: %s\n",
		offerHTML: "<p>Hello %s,</p><p>A place has become free at %s: <strong>%s, %s</strong>, at %s.</p>" +
			"<p>It is kept for you until %s.</p><p><a href=\"%s\">Book it or let it go</a></p><p>Your waitlist reference: %s</p>",
		offerSMS:    "%s: a place is free for you, %s, %s. Kept until %s: %s",
		linkSubject: "Your place on the waitlist (%s)",
		linkText: "Hello %s,\n\nSomeone (we hope you) asked to join the waitlist of %s for %s, from %s to %s, " +
			"with your details. You are already on it, and nothing has changed. Here is your link again, " +
			"to see your place or leave the waitlist:\n%s\n\n" +
			"When a time that fits becomes free, we will write to you with a link to book it. " +
			"If you did not ask for this, you can ignore this message.\n\nYour waitlist reference: %s\n",
		linkHTML: "<p>Hello %s,</p><p>Someone (we hope you) asked to join the waitlist of %s for <strong>%s</strong>, from %s to %s, " +
			"with your details. You are already on it, and nothing has changed.</p><p><a href=\"%s\">See your place on the waitlist</a></p>" +
			"<p>When a time that fits becomes free, we will write to you with a link to book it. " +
			"If you did not ask for this, you can ignore this message.</p><p>Your waitlist reference: %s</p>",
		linkSMS: "%s: you are already on the waitlist (%s). Your link: %s",
	},
	"es": {
		offerSubject: "Hay una hora libre para usted: %s, %s",
		offerText: "Hola, %s:\n\nHa quedado libre una hora en %s: %s, %s, en %s.\n\n" +
			"Se la guardamos hasta las %s. Para reservarla, o dejarla al siguiente paciente, abra:\n%s\n\n" +
			"Su referencia en la lista de espera: %s\n",
		offerHTML: "<p>Hola, %s:</p><p>Ha quedado libre una hora en %s: <strong>%s, %s</strong>, en %s.</p>" +
			"<p>Se la guardamos hasta las %s.</p><p><a href=\"%s\">Reservarla o dejarla</a></p><p>Su referencia en la lista de espera: %s</p>",
		// Texts keep to the GSM-7 alphabet where they can (see shortWhen).
		offerSMS:    "%s: hay una hora libre para usted, %s, %s. Guardada hasta las %s: %s",
		linkSubject: "Su lugar en la lista de espera (%s)",
		linkText: "Hola, %s:\n\nAlguien (esperamos que usted) ha pedido entrar en la lista de espera de %s para %s, del %s al %s, " +
			"con sus datos. Ya está en ella y nada ha cambiado. Aquí tiene de nuevo su enlace, " +
			"para ver su lugar o salir de la lista de espera:\n%s\n\n" +
			"Cuando quede libre una hora que le convenga, le escribiremos con un enlace para reservarla. " +
			"Si no lo ha pedido usted, puede ignorar este mensaje.\n\nSu referencia en la lista de espera: %s\n",
		linkHTML: "<p>Hola, %s:</p><p>Alguien (esperamos que usted) ha pedido entrar en la lista de espera de %s para <strong>%s</strong>, del %s al %s, " +
			"con sus datos. Ya está en ella y nada ha cambiado.</p><p><a href=\"%s\">Ver su lugar en la lista de espera</a></p>" +
			"<p>Cuando quede libre una hora que le convenga, le escribiremos con un enlace para reservarla. " +
			"Si no lo ha pedido usted, puede ignorar este mensaje.</p><p>Su referencia en la lista de espera: %s</p>",
		linkSMS: "%s: ya esta en la lista de espera (%s). Su enlace: %s",
	},
}

// wordsFor returns the waitlist messages of locale, English when there
// are none.
func wordsFor(locale string) waitlistWords {
	if w, ok := waitlistWording[locale]; ok {
		return w
	}
	return waitlistWording[booking.Locales[0]]
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
	say := wordsFor(v.locale)
	esc := html.EscapeString
	subject := fmt.Sprintf(say.offerSubject, v.typ, v.when)
	text := fmt.Sprintf(say.offerText, v.entry.Patient.FirstName, v.clinic, v.typ, v.when, v.address, v.until, v.link, v.entry.Reference)
	body := fmt.Sprintf(say.offerHTML, esc(v.entry.Patient.FirstName), esc(v.clinic), esc(v.typ), esc(v.when),
		esc(v.address), esc(v.until), esc(v.link), esc(v.entry.Reference))
	return w.cfg.Messages.Email.send(ctx, email{id: a.ID, to: v.entry.Patient.Email, subject: subject, text: text, html: htmlDoc(v.locale, body)})
}

// htmlDoc wraps a message's HTML body with its language, so that a mail
// client reads it aloud in the right one.
func htmlDoc(locale, body string) string {
	return `<!DOCTYPE html><html lang="` + locale + `"><body>` + body + `</body></html>`
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
	body := fmt.Sprintf(wordsFor(v.locale).offerSMS, v.clinic, v.typ, v.short, v.until, v.link)
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

// linkView is what a link message says, in the entry's language.
type linkView struct {
	entry            booking.WaitlistEntry
	locale           string
	typ              string
	earliest, latest string
	link             string
}

// prepareLink loads the entry a link message is about; a message for an
// entry no longer on the waitlist is skipped.
func (w *WaitlistOffers) prepareLink(ctx context.Context, a WaitlistLinkArgs) (linkView, error) {
	e, err := w.store.WaitlistEntry(ctx, a.EntryID)
	if errors.Is(err, booking.ErrNotFound) {
		return linkView{}, delivery.Permanent(err)
	}
	if err != nil {
		return linkView{}, err
	}
	if !e.Status.Live() {
		return linkView{}, delivery.Skipped("the entry is no longer on the waitlist")
	}
	locale := booking.PickLocale(e.Locale)
	v := linkView{entry: e, locale: locale, earliest: dayText(locale, e.Earliest), latest: dayText(locale, e.Latest)}
	if ct, err := w.store.ConsultationType(ctx, e.ConsultationTypeID); err == nil {
		v.typ = ct.Localized(locale).Name
	}
	if v.link, err = w.entryLink(ctx, e); err != nil {
		return linkView{}, err
	}
	return v, nil
}

func (w *WaitlistOffers) sendLinkEmail(ctx context.Context, j delivery.Job[WaitlistLinkEmailArgs]) error {
	if w.cfg.Messages.Email == nil {
		return delivery.Permanent(errors.New("email is not configured (SMTP_URL)"))
	}
	a := WaitlistLinkArgs(j.Args)
	v, err := w.prepareLink(ctx, a)
	if err != nil {
		return err
	}
	say := wordsFor(v.locale)
	esc := html.EscapeString
	clinic := w.cfg.Messages.ClinicName
	subject := fmt.Sprintf(say.linkSubject, v.entry.Reference)
	text := fmt.Sprintf(say.linkText, v.entry.Patient.FirstName, clinic, v.typ, v.earliest, v.latest, v.link, v.entry.Reference)
	body := fmt.Sprintf(say.linkHTML, esc(v.entry.Patient.FirstName), esc(clinic), esc(v.typ), esc(v.earliest), esc(v.latest),
		esc(v.link), esc(v.entry.Reference))
	return w.cfg.Messages.Email.send(ctx, email{id: a.ID, to: v.entry.Patient.Email, subject: subject, text: text, html: htmlDoc(v.locale, body)})
}

func (w *WaitlistOffers) sendLinkSMS(ctx context.Context, j delivery.Job[WaitlistLinkSMSArgs]) error {
	if w.cfg.Messages.SMS == nil {
		return delivery.Permanent(errors.New("text messages are not configured (TWILIO_ACCOUNT_SID)"))
	}
	a := WaitlistLinkArgs(j.Args)
	v, err := w.prepareLink(ctx, a)
	if err != nil {
		return err
	}
	phone := strings.Join(strings.Fields(v.entry.Patient.Phone), "")
	if !e164.MatchString(phone) {
		return delivery.Permanent(errors.New("the patient's phone number is not in E.164 form (+ and country code)"))
	}
	body := fmt.Sprintf(wordsFor(v.locale).linkSMS, w.cfg.Messages.ClinicName, v.entry.Reference, v.link)
	return w.cfg.Messages.SMS.send(ctx, a.ID, phone, body)
}

// Config returns n's configuration, so that waitlist offers speak with
// the same clinic name, links and channels.
func (n *Notifier) Config() Config { return n.cfg }
