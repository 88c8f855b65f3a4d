package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// NextQuery asks for the next slots the public may book from Now on, or,
// in the staff window, those the desk is offered (booking.Policy.Offers).
type NextQuery struct {
	ProviderID, LocationID, ConsultationTypeID *uuid.UUID // optional filters
	Policy                                     booking.Policy
	Window                                     booking.OfferWindow // whose; "" is the public's
	Now                                        time.Time
	Limit                                      int
}

// NextSlot is a bookable slot with the IANA time zone of its location.
type NextSlot struct {
	Slot     booking.Slot
	Timezone string
}

// NextAvailable returns the first q.Limit slots, by start then id, that the
// public may book at q.Now: the rules of Availability (open, a place left
// after live holds, an active catalogue, within the booking window), whatever
// the date; in the staff window, the slots not yet ended instead of the
// booking window. One statement; the place test (and, for staff, the end)
// is in SQL so that LIMIT counts only offered slots.
func (s *Store) NextAvailable(ctx context.Context, q NextQuery) ([]NextSlot, error) {
	now := q.Now.Unix()
	sql := `SELECT s.id, s.provider_id, s.location_id, s.consultation_type_id, s.start_at, s.end_at,
       s.capacity, s.booked, l.timezone,
       (SELECT COUNT(*) FROM slot_holds h WHERE h.slot_id = s.id AND h.expires_at > ?) AS held
FROM slots s
JOIN providers p ON p.id = s.provider_id
JOIN locations l ON l.id = s.location_id
JOIN consultation_types c ON c.id = s.consultation_type_id
WHERE s.status = 'open'
  AND s.booked + (SELECT COUNT(*) FROM slot_holds h WHERE h.slot_id = s.id AND h.expires_at > ?) < s.capacity
  AND s.start_at >= ?
  AND p.active = ? AND l.active = ? AND c.active = ?`
	earliest, latest := q.Policy.OfferedStarts(q.Window, q.Now)
	args := []any{now, now, ceilUnix(earliest), true, true, true}
	if q.Window == booking.StaffWindow {
		// The public window's earliest start is after now, so only a staff
		// question can meet a slot that has already ended.
		sql += "\n  AND s.end_at > ?"
		args = append(args, now)
	}
	if !latest.IsZero() {
		sql += "\n  AND s.start_at <= ?"
		args = append(args, latest.Unix())
	}
	for _, by := range []struct {
		col string
		id  *uuid.UUID
	}{{"s.provider_id", q.ProviderID}, {"s.location_id", q.LocationID}, {"s.consultation_type_id", q.ConsultationTypeID}} {
		if by.id != nil {
			sql += "\n  AND " + by.col + " = ?"
			args = append(args, by.id.String())
		}
	}
	sql += "\nORDER BY s.start_at, s.id\nLIMIT ?"
	args = append(args, q.Limit)
	rows, err := s.db.WithContext(ctx).Raw(sql, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("next availability: %w", err)
	}
	defer rows.Close()
	var out []NextSlot
	for rows.Next() {
		sl, tz, err := scanAvailable(rows)
		if err != nil {
			return nil, fmt.Errorf("next availability: %w", err)
		}
		if !q.Policy.Offers(q.Window, sl, q.Now) {
			continue
		}
		out = append(out, NextSlot{Slot: sl, Timezone: tz})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("next availability: %w", err)
	}
	return out, nil
}
