package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// PendingBookingIDs returns the ids of patient id's pending bookings,
// oldest request first, for staff to decline them all (each then changes
// on its own through UpdateBooking, like any decline). It returns
// booking.ErrNotFound for an unknown patient.
func (s *Store) PendingBookingIDs(ctx context.Context, id uuid.UUID) ([]uuid.UUID, error) {
	db := s.db.WithContext(ctx)
	if _, err := patientWhere(db, id, false); err != nil {
		return nil, fmt.Errorf("pending bookings of patient: %w", err)
	}
	var raw []string
	if err := db.Model(&bookingRow{}).Where("patient_id = ? AND status = ?", id.String(), string(booking.StatusPending)).
		Order("created_at, id").Pluck("id", &raw).Error; err != nil {
		return nil, fmt.Errorf("pending bookings of patient: %w", err)
	}
	out := make([]uuid.UUID, 0, len(raw))
	for _, r := range raw {
		u, err := uuid.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("pending bookings of patient: %w", err)
		}
		out = append(out, u)
	}
	return out, nil
}
