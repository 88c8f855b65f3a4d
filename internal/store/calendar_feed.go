package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/clinic/consult/internal/booking"
)

type providerFeedRow struct {
	ProviderID string    `gorm:"column:provider_id;primaryKey"`
	TokenHash  string    `gorm:"column:token_hash"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

func (providerFeedRow) TableName() string { return "provider_calendar_feeds" }

// SetProviderFeedToken makes tokenHash the provider's calendar feed
// credential, replacing any earlier one (whose URL stops working).
// booking.ErrNotFound for an unknown provider.
func (s *Store) SetProviderFeedToken(ctx context.Context, providerID uuid.UUID, tokenHash string) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&providerRow{}).Where("id = ?", providerID.String()).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return booking.ErrNotFound
		}
		row := providerFeedRow{ProviderID: providerID.String(), TokenHash: tokenHash, CreatedAt: utc(s.now())}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "provider_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"token_hash", "created_at"}),
		}).Create(&row).Error
	})
	if err != nil {
		return fmt.Errorf("provider calendar feed: %w", err)
	}
	return nil
}

// RevokeProviderFeedToken ends the provider's calendar feed: its URL stops
// working and no new one is made. Revoking a provider with no feed is not
// an error. booking.ErrNotFound for an unknown provider.
func (s *Store) RevokeProviderFeedToken(ctx context.Context, providerID uuid.UUID) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&providerRow{}).Where("id = ?", providerID.String()).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return booking.ErrNotFound
		}
		return deleteProviderFeed(tx, providerID)
	})
	if err != nil {
		return fmt.Errorf("revoke provider calendar feed: %w", err)
	}
	return nil
}

// deleteProviderFeed removes the provider's feed token inside tx. A
// deactivated provider's feed goes too (see UpdateProvider), so activating
// the provider again does not bring an old, perhaps leaked, URL back.
func deleteProviderFeed(tx *gorm.DB, providerID uuid.UUID) error {
	return tx.Where("provider_id = ?", providerID.String()).Delete(&providerFeedRow{}).Error
}

// ProviderByFeedToken returns the active provider whose calendar feed token
// hashes to tokenHash; booking.ErrNotFound when none does, or when that
// provider has been deactivated (the feed dies with its provider).
func (s *Store) ProviderByFeedToken(ctx context.Context, tokenHash string) (uuid.UUID, error) {
	var row providerFeedRow
	err := s.db.WithContext(ctx).
		Joins("JOIN providers ON providers.id = provider_calendar_feeds.provider_id AND providers.active").
		Where("provider_calendar_feeds.token_hash = ?", tokenHash).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return uuid.Nil, fmt.Errorf("calendar feed: %w", booking.ErrNotFound)
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("calendar feed: %w", err)
	}
	id, err := uuid.Parse(row.ProviderID)
	if err != nil {
		return uuid.Nil, fmt.Errorf("calendar feed: %w", err)
	}
	return id, nil
}

// ProviderBookings returns the provider's bookings in one of statuses whose
// slots start in [from, to), by start time, with their slots.
func (s *Store) ProviderBookings(ctx context.Context, providerID uuid.UUID, from, to time.Time, statuses []booking.Status) ([]BookingWithSlot, error) {
	db := s.db.WithContext(ctx)
	var rows []bookingRow
	err := db.Table("bookings").Select("bookings.*").
		Joins("JOIN slots ON slots.id = bookings.slot_id").
		Where("slots.provider_id = ? AND slots.start_at >= ? AND slots.start_at < ? AND bookings.status IN ?",
			providerID.String(), from.Unix(), to.Unix(), strs(statuses)).
		Order("slots.start_at, bookings.id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("provider bookings: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.SlotID)
	}
	var slotRows []slotRow
	if err := db.Where("id IN ?", ids).Find(&slotRows).Error; err != nil {
		return nil, fmt.Errorf("provider bookings: slots: %w", err)
	}
	slots := make(map[string]booking.Slot, len(slotRows))
	for _, r := range slotRows {
		sl, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		slots[r.ID] = sl
	}
	out := make([]BookingWithSlot, 0, len(rows))
	for _, r := range rows {
		b, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, BookingWithSlot{Booking: b, Slot: slots[r.SlotID]})
	}
	return out, nil
}
