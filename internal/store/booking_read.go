package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// Booking returns one booking and its slot; booking.ErrNotFound when
// unknown.
func (s *Store) Booking(ctx context.Context, id uuid.UUID) (booking.Booking, booking.Slot, error) {
	var row bookingRow
	err := s.db.WithContext(ctx).Where("id = ?", id.String()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return booking.Booking{}, booking.Slot{}, fmt.Errorf("booking: %w", booking.ErrNotFound)
	}
	if err != nil {
		return booking.Booking{}, booking.Slot{}, fmt.Errorf("booking: %w", err)
	}
	return s.withSlot(ctx, row)
}

func (s *Store) withSlot(ctx context.Context, row bookingRow) (booking.Booking, booking.Slot, error) {
	b, err := row.toDomain()
	if err != nil {
		return booking.Booking{}, booking.Slot{}, err
	}
	slot, err := slotWhere(s.db.WithContext(ctx), b.SlotID)
	if err != nil {
		return booking.Booking{}, booking.Slot{}, fmt.Errorf("booking: %w", err)
	}
	return b, slot, nil
}

// unknownTokenHash is compared with the token given for a reference that
// does not exist, so that the answer takes as long as for a wrong token.
var unknownTokenHash = booking.HashToken("no booking has this reference")

// BookingByReference returns the booking with reference (as a person typed
// it; see booking.NormalizeReference) and its slot, if token is its manage
// token. An unknown or malformed reference and a wrong token are the same
// booking.ErrNotFound, and take about the same time: one indexed lookup and
// one constant-time hash comparison either way.
func (s *Store) BookingByReference(ctx context.Context, reference, token string) (booking.Booking, booking.Slot, error) {
	notFound := fmt.Errorf("booking: %w", booking.ErrNotFound)
	ref, ok := booking.NormalizeReference(reference)
	if !ok {
		ref = "" // no row has it; still do the lookup
	}
	// Only the id and the hash are read before the token is checked, so a
	// real reference costs no more than an unknown one until it matches.
	type credential struct {
		ID              string
		ManageTokenHash string
	}
	var creds []credential
	err := s.db.WithContext(ctx).Model(&bookingRow{}).Select("id", "manage_token_hash").
		Where("reference = ?", ref).Limit(1).Find(&creds).Error
	if err != nil {
		return booking.Booking{}, booking.Slot{}, fmt.Errorf("booking: %w", err)
	}
	hash := unknownTokenHash
	if len(creds) == 1 {
		hash = creds[0].ManageTokenHash
	}
	if match := booking.TokenMatches(hash, token); !match || len(creds) == 0 {
		return booking.Booking{}, booking.Slot{}, notFound
	}
	var row bookingRow
	if err := s.db.WithContext(ctx).Where("id = ?", creds[0].ID).Take(&row).Error; err != nil {
		return booking.Booking{}, booking.Slot{}, fmt.Errorf("booking: %w", err)
	}
	return s.withSlot(ctx, row)
}

// BookingEvents returns a booking's history, oldest first;
// booking.ErrNotFound when the booking is unknown.
func (s *Store) BookingEvents(ctx context.Context, id uuid.UUID) ([]booking.Event, error) {
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Model(&bookingRow{}).Where("id = ?", id.String()).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("booking events: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("booking events: %w", booking.ErrNotFound)
	}
	var rows []bookingEventRow
	if err := db.Where("booking_id = ?", id.String()).Order("at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("booking events: %w", err)
	}
	out := make([]booking.Event, 0, len(rows))
	for _, r := range rows {
		e, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
