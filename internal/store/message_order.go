package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// MessageNote is a message about the state of a booking, written for one
// channel: the booking's version after the change it tells of.
type MessageNote struct {
	BookingID uuid.UUID
	Channel   string
	Version   int
}

// NoteMessagesTx records in tx, the transaction that writes the messages,
// the newest version each booking has a state message written for on each
// channel, for ClaimMessageSend to tell a superseded message by.
func (s *Store) NoteMessagesTx(ctx context.Context, tx *sql.Tx, notes []MessageNote) error {
	type key struct {
		id      uuid.UUID
		channel string
	}
	newest := map[key]int{}
	for _, n := range notes {
		k := key{n.BookingID, n.Channel}
		newest[k] = max(newest[k], n.Version)
	}
	if len(newest) == 0 {
		return nil
	}
	keys := make([]key, 0, len(newest))
	for k := range newest {
		keys = append(keys, k)
	}
	// One order of rows, so that two relays' upserts cannot deadlock.
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.id.String(), b.id.String()); c != 0 {
			return c
		}
		return strings.Compare(a.channel, b.channel)
	})
	greatest := "max"
	if s.dialect == Postgres {
		greatest = "GREATEST"
	}
	bind := bindFor(s.dialect == Postgres)
	const chunk = 300
	for len(keys) > 0 {
		part := keys[:min(chunk, len(keys))]
		keys = keys[len(part):]
		var q strings.Builder
		q.WriteString("INSERT INTO message_order (booking_id, channel, written_version) VALUES ")
		q.WriteString(joinedCopies("(?, ?, ?)", len(part)))
		args := make([]any, 0, 3*len(part))
		for _, k := range part {
			args = append(args, k.id.String(), k.channel, newest[k])
		}
		q.WriteString(" ON CONFLICT (booking_id, channel) DO UPDATE SET written_version = " + greatest +
			"(message_order.written_version, excluded.written_version)")
		if _, err := tx.ExecContext(ctx, bind(q.String()), args...); err != nil {
			return fmt.Errorf("note messages: %w", err)
		}
	}
	return nil
}

// SendClaim asks for a booking's turn to send one message on one channel.
type SendClaim struct {
	BookingID uuid.UUID
	Channel   string
	MessageID string // the message's stable id: its own claim is its again
	// Version is the booking's version after the change the message tells
	// of; 0 for a message not about a change of state (a reminder), which
	// nothing supersedes here.
	Version int
	Until   time.Time // when the claim lapses if it is not finished
	Now     time.Time
}

// ClaimResult is ClaimMessageSend's answer.
type ClaimResult int

// Answers of ClaimMessageSend.
const (
	// ClaimGranted: send now, then FinishMessageSend.
	ClaimGranted ClaimResult = iota
	// ClaimSuperseded: a newer state message of the booking on the channel
	// was written or sent; this one must never go out.
	ClaimSuperseded
	// ClaimBusy: another message of the booking on the channel is being
	// sent; try again shortly.
	ClaimBusy
	// ClaimSentAlready: this very message was sent (its sender died before
	// the queue recorded it); it need not go out again.
	ClaimSentAlready
)

// ClaimMessageSend gives message c the turn of its booking on its channel,
// unless it is superseded or another message holds the turn (see
// ClaimResult). The booking's row is locked while it decides, so two
// instances never both hold a turn; a claim whose holder died (kill -9)
// lapses at its Until, and the holder's message, tried again, finds
// itself superseded if a newer one was written meanwhile.
func (s *Store) ClaimMessageSend(ctx context.Context, c SendClaim) (ClaimResult, error) {
	var res ClaimResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r, err := rawTxOf(tx)
		if err != nil {
			return err
		}
		id := c.BookingID.String()
		var written, sent int
		var holder sql.NullString
		var until int64
		for range 2 {
			// An UPDATE that changes nothing locks the row on PostgreSQL
			// (SQLite's write transaction holds the whole file).
			err = r.queryRow(`UPDATE message_order SET claim_until = claim_until WHERE booking_id = ? AND channel = ?
				RETURNING written_version, sent_version, claim_id, claim_until`, []any{id, c.Channel}, &written, &sent, &holder, &until)
			if !errors.Is(err, sql.ErrNoRows) {
				break
			}
			if _, err = r.exec("INSERT INTO message_order (booking_id, channel) VALUES (?, ?) ON CONFLICT (booking_id, channel) DO NOTHING", id, c.Channel); err != nil {
				return err
			}
			err = sql.ErrNoRows
		}
		if err != nil {
			return err
		}
		switch {
		case c.Version > 0 && (written > c.Version || sent > c.Version):
			res = ClaimSuperseded
			return nil
		case c.Version > 0 && sent == c.Version:
			// A booking's change writes one state message per channel, so
			// the version sent is this message's.
			res = ClaimSentAlready
			return nil
		case holder.Valid && holder.String != c.MessageID && until > c.Now.UnixMilli():
			res = ClaimBusy
			return nil
		}
		res = ClaimGranted
		_, err = r.exec("UPDATE message_order SET claim_id = ?, claim_until = ? WHERE booking_id = ? AND channel = ?",
			c.MessageID, c.Until.UnixMilli(), id, c.Channel)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("claim message send: %w", err)
	}
	return res, nil
}

// FinishMessageSend ends claim c: the turn is given back, and, if the
// message was sent, its version is the booking's newest sent on the
// channel.
func (s *Store) FinishMessageSend(ctx context.Context, c SendClaim, sent bool) error {
	version := 0
	if sent {
		version = c.Version
	}
	greatest := "max"
	if s.dialect == Postgres {
		greatest = "GREATEST"
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r, err := rawTxOf(tx)
		if err != nil {
			return err
		}
		_, err = r.exec(`UPDATE message_order SET sent_version = `+greatest+`(sent_version, ?),
			claim_id = CASE WHEN claim_id = ? THEN NULL ELSE claim_id END,
			claim_until = CASE WHEN claim_id = ? THEN 0 ELSE claim_until END
			WHERE booking_id = ? AND channel = ?`, version, c.MessageID, c.MessageID, c.BookingID.String(), c.Channel)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish message send: %w", err)
	}
	return nil
}
