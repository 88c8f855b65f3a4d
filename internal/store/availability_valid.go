package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// AvailabilityUntil is Availability together with AvailabilityValidUntil
// of its answer: what a cache needs on a miss, in one call.
func (s *Store) AvailabilityUntil(ctx context.Context, q AvailabilityQuery) ([]booking.Day, time.Time, error) {
	days, err := s.Availability(ctx, q)
	if err != nil {
		return nil, time.Time{}, err
	}
	until, err := s.AvailabilityValidUntil(ctx, q, days)
	if err != nil {
		return nil, time.Time{}, err
	}
	return days, until, nil
}

// AvailabilityValidUntil returns until when days, Availability's answer to
// q (asked at q.Now), stays right with no write to the database: the first
// moment one of its slots leaves the booking window or a slot in q's range
// enters it (Policy.BookableDuring). The zero time means the answer does
// not expire.
func (s *Store) AvailabilityValidUntil(ctx context.Context, q AvailabilityQuery, days []booking.Day) (time.Time, error) {
	var until time.Time
	earlier := func(t time.Time) {
		if until.IsZero() || t.Before(until) {
			until = t
		}
	}
	for _, d := range days {
		for _, sl := range d.Slots {
			// Bookable through until, included (Policy.PublicBookable).
			_, last := q.Policy.BookableDuring(sl.StartAt)
			earlier(last)
		}
	}
	// A live hold on a slot of the range frees its place when it expires,
	// with no write: the answer holds until the first such expiry.
	lo, hiRange := q.Days.Window()
	hq := s.db.WithContext(ctx).Table("slot_holds h").Joins("JOIN slots s ON s.id = h.slot_id").
		Where("h.expires_at > ? AND s.start_at >= ? AND s.start_at < ?", q.Now.Unix(), lo.Unix(), ceilUnix(hiRange))
	for _, by := range []struct {
		col string
		id  *uuid.UUID
	}{{"s.provider_id", q.ProviderID}, {"s.location_id", q.LocationID}, {"s.consultation_type_id", q.ConsultationTypeID}} {
		if by.id != nil {
			hq = hq.Where(by.col+" = ?", by.id.String())
		}
	}
	var firstExpiry *int64
	if err := hq.Select("MIN(h.expires_at)").Scan(&firstExpiry).Error; err != nil {
		return time.Time{}, fmt.Errorf("availability valid until: %w", err)
	}
	if firstExpiry != nil {
		// Counted while expires_at > now: right until just before it.
		earlier(time.Unix(*firstExpiry, 0).Add(-time.Nanosecond))
	}
	_, horizon := q.Policy.BookableStarts(q.Now)
	if horizon.IsZero() {
		return until, nil // no MaxAdvance: no slot enters the window later
	}
	_, hi := q.Days.Window()
	if !hi.After(horizon) {
		return until, nil
	}
	// The first slot beyond the horizon in the range, whatever its status
	// or catalogue: an earlier expiry than needed is only a cache miss.
	db := s.db.WithContext(ctx).Model(&slotRow{}).Where("start_at > ? AND start_at < ?", horizon.Unix(), ceilUnix(hi))
	for _, by := range []struct {
		col string
		id  *uuid.UUID
	}{{"provider_id", q.ProviderID}, {"location_id", q.LocationID}, {"consultation_type_id", q.ConsultationTypeID}} {
		if by.id != nil {
			db = db.Where(by.col+" = ?", by.id.String())
		}
	}
	var next *int64
	if err := db.Select("MIN(start_at)").Scan(&next).Error; err != nil {
		return time.Time{}, fmt.Errorf("availability valid until: %w", err)
	}
	if next != nil {
		// Bookable from from on; the answer holds until just before.
		from, _ := q.Policy.BookableDuring(time.Unix(*next, 0))
		earlier(from.Add(-time.Nanosecond))
	}
	return until, nil
}
