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

// BookingByReference returns the booking with reference (as a person typed
// it; see booking.NormalizeReference) and its slot, if token is one of its
// manage tokens (the one given when it was made, or one minted for a
// message; see MintManageToken). An unknown or malformed reference and a
// wrong token are the same booking.ErrNotFound, and take about the same
// time: one query over two unique indexes either way. Looking the token up
// by its hash reveals nothing: the hash of a token with 256 random bits
// cannot be guessed.
func (s *Store) BookingByReference(ctx context.Context, reference, token string) (booking.Booking, booking.Slot, error) {
	notFound := fmt.Errorf("booking: %w", booking.ErrNotFound)
	ref, ok := booking.NormalizeReference(reference)
	if !ok {
		ref = "" // no row has it; still do the lookup
	}
	var ids []string
	err := s.db.WithContext(ctx).Model(&bookingRow{}).
		Where("reference = ? AND EXISTS (SELECT 1 FROM booking_manage_tokens t WHERE t.token_hash = ? AND t.booking_id = bookings.id)",
			ref, booking.HashToken(token)).
		Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return booking.Booking{}, booking.Slot{}, fmt.Errorf("booking: %w", err)
	}
	if len(ids) == 0 {
		return booking.Booking{}, booking.Slot{}, notFound
	}
	var row bookingRow
	if err := s.db.WithContext(ctx).Where("id = ?", ids[0]).Take(&row).Error; err != nil {
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

// BookingIDByReference returns the id of the booking with reference (as a
// person typed it; see booking.NormalizeReference), for staff, who may open
// any booking: no manage token is asked. An unknown or malformed reference
// is booking.ErrNotFound.
func (s *Store) BookingIDByReference(ctx context.Context, reference string) (uuid.UUID, error) {
	ref, ok := booking.NormalizeReference(reference)
	if !ok {
		return uuid.Nil, fmt.Errorf("booking by reference: %w", booking.ErrNotFound)
	}
	var ids []string
	if err := s.db.WithContext(ctx).Model(&bookingRow{}).Where("reference = ?", ref).Limit(1).Pluck("id", &ids).Error; err != nil {
		return uuid.Nil, fmt.Errorf("booking by reference: %w", err)
	}
	if len(ids) == 0 {
		return uuid.Nil, fmt.Errorf("booking by reference: %w", booking.ErrNotFound)
	}
	id, err := uuid.Parse(ids[0])
	if err != nil {
		return uuid.Nil, fmt.Errorf("booking by reference %s: %w", ref, err)
	}
	return id, nil
}
