package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// A booking holds several manage tokens, kept as their hashes: the one
// shown when it was made and one for each message that carried a manage
// link; any of them opens the booking. booking_manage_tokens is keyed by
// (booking_id, token_hash), the only way a token is looked up.

// insertManageToken stores the hash of a new manage token of booking
// bookingID, minted for message messageID ("" for the one shown at
// creation).
func insertManageToken(tx *gorm.DB, bookingID uuid.UUID, hash, messageID string, at time.Time) error {
	var msg *string
	if messageID != "" {
		msg = &messageID
	}
	rt, err := rawTxOf(tx)
	if err != nil {
		return fmt.Errorf("store manage token: %w", err)
	}
	if _, err := rt.exec("INSERT INTO booking_manage_tokens (token_hash, booking_id, message_id, created_at) VALUES (?, ?, ?, ?)",
		hash, bookingID.String(), msg, utc(at)); err != nil {
		return fmt.Errorf("store manage token: %w", err)
	}
	return nil
}

// MintManageToken makes a new manage token for booking bookingID, for the
// message messageID to carry in its manage link, stores its hash and returns
// it in clear. The booking's other tokens keep working. It returns
// booking.ErrNotFound for an unknown booking.
func (s *Store) MintManageToken(ctx context.Context, bookingID uuid.UUID, messageID string) (string, error) {
	token, err := booking.NewManageToken()
	if err != nil {
		return "", fmt.Errorf("mint manage token: %w", err)
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&bookingRow{}).Where("id = ?", bookingID.String()).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return booking.ErrNotFound
		}
		return insertManageToken(tx, bookingID, booking.HashToken(token), messageID, s.now())
	})
	if err != nil {
		return "", fmt.Errorf("mint manage token: %w", err)
	}
	return token, nil
}
