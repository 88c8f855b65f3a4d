package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// TestChangeHookWritesInTheChangesTransaction: what a hook writes commits
// with the booking change, and a hook's error undoes the change and the
// hook's own writes.
func TestChangeHookWritesInTheChangesTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.QueueDB().ExecContext(ctx, "CREATE TABLE hook_probe (booking_id TEXT NOT NULL, event TEXT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		fail := false
		s.AddChangeHook(func(ctx context.Context, tx *sql.Tx, c store.BookingChange) error {
			for _, e := range c.Events {
				q := "INSERT INTO hook_probe (booking_id, event) VALUES (?, ?)"
				if s.Dialect() == store.Postgres {
					q = "INSERT INTO hook_probe (booking_id, event) VALUES ($1, $2)"
				}
				if _, err := tx.ExecContext(ctx, q, c.Booking.ID.String(), string(e.Type)); err != nil {
					return err
				}
			}
			if fail {
				return errors.New("hook refuses")
			}
			return nil
		})
		probes := func() int {
			var n int
			if err := s.QueueDB().QueryRowContext(ctx, "SELECT count(*) FROM hook_probe").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		slots := catalogue(t, s)
		sl := slots(1, booking.SlotOpen)
		res, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := probes(); got != 1 {
			t.Errorf("after a create: got %d hook rows, want 1", got)
		}
		fail = true
		_, _, err = s.UpdateBooking(ctx, res.Booking.ID, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
			ev, err := b.Apply(booking.ActionConfirm, booking.Actor{Type: booking.ActorSystem}, "", b.UpdatedAt)
			return []booking.Event{ev}, err
		})
		if err == nil {
			t.Fatal("update with a failing hook: got nil error, want the hook's")
		}
		b, _, err := s.Booking(ctx, res.Booking.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != booking.StatusPending || b.Version != res.Booking.Version {
			t.Errorf("after a refused change: got status %s version %d, want it unchanged (pending, %d)", b.Status, b.Version, res.Booking.Version)
		}
		if got := probes(); got != 1 {
			t.Errorf("after a refused change: got %d hook rows, want 1 (the hook's write rolled back)", got)
		}
		sl2 := slots(1, booking.SlotOpen)
		if _, err := s.CreateBooking(ctx, sl2.ID, webDraft(t, sl2.ID, nil), nil); err == nil {
			t.Error("create with a failing hook: got nil error")
		}
		if got := bookedIn(t, s, sl2.ID); got != 0 {
			t.Errorf("refused create: slot has %d booked, want 0", got)
		}
	})
}

// TestMintedManageTokensAllWork: a booking keeps its first token and every
// token minted for a message.
func TestMintedManageTokensAllWork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sl := catalogue(t, s)(1, booking.SlotOpen)
		var first string
		res, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, &first), nil)
		if err != nil {
			t.Fatal(err)
		}
		tokens := []string{first}
		for _, msg := range []string{"m1", "m2"} {
			tok, err := s.MintManageToken(ctx, res.Booking.ID, msg)
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, tok)
		}
		for i, tok := range tokens {
			if b, _, err := s.BookingByReference(ctx, res.Booking.Reference, tok); err != nil || b.ID != res.Booking.ID {
				t.Errorf("token %d: got %v, want the booking", i, err)
			}
		}
		other := catalogue(t, s)(1, booking.SlotOpen)
		res2, err := s.CreateBooking(ctx, other.ID, webDraft(t, other.ID, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.BookingByReference(ctx, res2.Booking.Reference, tokens[1]); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("another booking's token: got %v, want ErrNotFound", err)
		}
		if _, err := s.MintManageToken(ctx, other.ID, "m3"); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("mint for a slot id: got %v, want ErrNotFound", err)
		}
	})
}
