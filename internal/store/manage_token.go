package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// manageTokenRow is one manage token of a booking, kept as its hash. A
// booking holds the token shown when it was made and one for each message
// that carried a manage link; any of them opens the booking.
type manageTokenRow struct {
	TokenHash string    `gorm:"column:token_hash;primaryKey"`
	BookingID string    `gorm:"column:booking_id"`
	MessageID *string   `gorm:"column:message_id"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (manageTokenRow) TableName() string { return "booking_manage_tokens" }

func insertManageToken(tx *gorm.DB, bookingID uuid.UUID, hash, messageID string, at time.Time) error {
	row := manageTokenRow{TokenHash: hash, BookingID: bookingID.String(), CreatedAt: utc(at)}
	if messageID != "" {
		row.MessageID = &messageID
	}
	if err := tx.Create(&row).Error; err != nil {
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
