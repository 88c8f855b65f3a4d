package store

import (
	"context"
	"fmt"
	"time"

	"github.com/clinic/consult/internal/booking"
)

// Upcoming is a confirmed booking with its appointment's start and when it
// was last made, confirmed or moved.
type Upcoming struct {
	Booking   booking.Booking
	SlotStart time.Time
	// SettledAt is the latest of its creation, confirmation and
	// reschedules: when the booking as it stands was settled.
	SettledAt time.Time
}

// ConfirmedStarting returns the confirmed bookings whose appointment starts
// in [from, to), by start (the reminders' sweep reads them).
func (s *Store) ConfirmedStarting(ctx context.Context, from, to time.Time) ([]Upcoming, error) {
	var rows []bookingRow
	err := s.db.WithContext(ctx).
		Where("status = ? AND slot_start_at >= ? AND slot_start_at < ?", string(booking.StatusConfirmed), from.Unix(), to.Unix()).
		Order("slot_start_at, id").Limit(10000).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("confirmed bookings starting: %w", err)
	}
	out := make([]Upcoming, 0, len(rows))
	for _, r := range rows {
		b, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		var events []bookingEventRow
		err = s.db.WithContext(ctx).Where("booking_id = ? AND type IN ?", r.ID,
			[]string{string(booking.EventCreated), string(booking.EventConfirmed), string(booking.EventRescheduled)}).
			Find(&events).Error
		if err != nil {
			return nil, fmt.Errorf("confirmed bookings starting: %w", err)
		}
		u := Upcoming{Booking: b, SlotStart: time.Unix(r.SlotStartAt, 0).UTC()}
		for _, e := range events {
			if e.At.After(u.SettledAt) {
				u.SettledAt = e.At.UTC()
			}
		}
		out = append(out, u)
	}
	return out, nil
}
