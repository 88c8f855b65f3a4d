package notify

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
)

// A patient never hears an older state of a booking after a newer one.
// Messages travel in parallel, on several instances, each retried on its
// own schedule, so nothing in the queue keeps a booking's confirmation
// ahead of its cancellation written a moment later. Each send therefore
// takes its booking's turn on its channel first (store.ClaimMessageSend,
// one row per booking and channel, locked while it decides):
//
//   - The relay records, in the transaction that writes a state message
//     (received, confirmed, declined, cancelled, rescheduled, expired),
//     the booking's version after the change (store.NoteMessagesTx). A
//     state message older than the newest written, or than one already
//     sent, is superseded: it ends skipped, listed so to admins, and never
//     goes out. So a superseded message is sent before the newer one or not
//     at all.
//   - Only one message of a booking and channel is sent at a time: while
//     one holds the turn the others wait (delivery.Later, which is neither
//     an attempt nor a failure). The newer one thus cannot overtake an
//     older one already on its way to the mail server.
//   - A reminder takes the turn too, and reads the booking only once it
//     holds it: a cancellation committed before then is seen (the reminder
//     is skipped); one committed after waits for the reminder to be sent.
//
// The turn is held until the send ends, or lapses at the attempt's
// deadline (plus claimSkew for clocks between instances) when its holder
// was killed; the message, tried again after River's lease, finds itself
// superseded if a newer one was written, or sent already if its holder
// died after sending it (then it is not sent twice), and otherwise goes
// out again (at least once). A failed attempt gives the turn back at once,
// so a message that keeps failing holds up no newer one.
// Webhooks are not ordered (receivers keep the highest data.version).
const claimSkew = 10 * time.Second

// claimWait is how long a message waits for its booking's turn before it
// asks again (with jitter, so that waiters do not ask together).
const claimWait = 400 * time.Millisecond

// inTurn sends message m on channel with send, in its booking's turn (see
// above). send loads the booking and returns delivery.ErrSkip if the
// message turned out to be moot.
func (n *Notifier) inTurn(ctx context.Context, channel string, m Message, send func() error) error {
	c := store.SendClaim{BookingID: m.BookingID, Channel: channel, MessageID: m.ID, Version: m.Version, Now: time.Now()}
	if m.Template == Reminder {
		c.Version = 0
	}
	c.Until = c.Now.Add(time.Minute)
	if d, ok := ctx.Deadline(); ok {
		c.Until = d
	}
	c.Until = c.Until.Add(claimSkew)
	res, err := n.store.ClaimMessageSend(ctx, c)
	if err != nil {
		return err
	}
	switch res {
	case store.ClaimSuperseded:
		return delivery.Skipped("superseded by a newer message about the booking")
	case store.ClaimBusy:
		return delivery.Later(claimWait/2 + rand.N(claimWait))
	case store.ClaimSentAlready:
		return nil // listed as sent, as it was
	}
	err = send()
	// The turn is given back whatever happened, even if ctx ended.
	if ferr := n.store.FinishMessageSend(context.WithoutCancel(ctx), c, err == nil); ferr != nil && err == nil {
		// Sent, but not recorded: the turn lapses by itself; a repeat of
		// this message would be sent again, which receivers can drop.
		n.cfg.Log.Warn("patient message sent; its turn not given back", "channel", channel, "message_id", m.ID, "error", ferr.Error())
	}
	return err
}

// channelOf names a message kind's channel in the turn table.
func channelOf(kind string) string {
	if kind == KindSMS {
		return "sms"
	}
	return "email"
}

// stateTemplate reports whether tpl tells of a change of the booking's state
// (everything but a reminder).
func stateTemplate(tpl Template) bool { return tpl != Reminder }
