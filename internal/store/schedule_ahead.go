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

// AheadResult counts what one KeepSchedulesAhead run did.
type AheadResult struct {
	Extended int // schedules that got new slots
	GenerateResult
	// Unavailable counts the active schedules left as they were because
	// their provider, location or consultation type is inactive; they are
	// generated once it is active again.
	Unavailable int
}

// CreateScheduleAhead inserts sc, as CreateSchedule does, and in the same
// transaction generates its slots through the date of now+ahead in its
// location's time zone (see KeepSchedulesAhead), so a new schedule is
// bookable at once. It returns the schedule as stored (with its
// GeneratedThrough) and the errors CreateSchedule does.
func (s *Store) CreateScheduleAhead(ctx context.Context, sc booking.Schedule, now time.Time, ahead time.Duration) (booking.Schedule, GenerateResult, error) {
	sc.GeneratedThrough = nil
	row, err := scheduleToRow(sc, sc.CreatedAt)
	if err != nil {
		return booking.Schedule{}, GenerateResult{}, fmt.Errorf("create schedule: %w", err)
	}
	var res GenerateResult
	err = s.tx(ctx, func(tx *gorm.DB) error {
		loc, err := checkRefs(tx, sc.ProviderID, sc.LocationID, sc.ConsultationTypeID, true)
		if err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		res, err = extendTx(tx, &sc, loc, now, ahead)
		return err
	})
	if err != nil {
		return booking.Schedule{}, GenerateResult{}, fmt.Errorf("create schedule: %w", err)
	}
	return sc, res, nil
}

// KeepSchedulesAhead generates every active schedule's slots through the
// date of now+ahead (booking.Policy.MaxAdvance) in its location's time
// zone, making only the days after the schedule's GeneratedThrough (see
// booking.Schedule.DaysAhead), and moves GeneratedThrough on. Run again at
// the same now it creates nothing; a day later, one more day.
//
// Several instances may run it at once: each schedule is extended in a
// transaction of its own that locks the schedule's row (FOR UPDATE on
// PostgreSQL; SQLite's transaction holds the write lock) and reads
// GeneratedThrough again under it, so the second run finds the days made.
// The provider's lock (as in GenerateSlots) keeps the slots from
// overlapping any other, hand-made or generated.
//
// A schedule whose provider, location or consultation type is inactive is
// counted as Unavailable and left for a later run. A failure on one
// schedule does not stop the others; the errors are returned joined.
func (s *Store) KeepSchedulesAhead(ctx context.Context, now time.Time, ahead time.Duration) (AheadResult, error) {
	due, err := s.schedulesDue(ctx, now, ahead)
	if err != nil {
		return AheadResult{}, fmt.Errorf("keep schedules ahead: %w", err)
	}
	var out AheadResult
	var errs []error
	for _, id := range due {
		res, err := s.KeepScheduleAhead(ctx, id, now, ahead)
		var ve *booking.ValidationError
		switch {
		case errors.As(err, &ve):
			out.Unavailable++
		case errors.Is(err, booking.ErrNotFound): // deleted meanwhile
		case err != nil:
			errs = append(errs, err)
		case res.Created > 0:
			out.Extended++
		}
		out.Created += res.Created
		out.Skipped += res.Skipped
	}
	return out, errors.Join(errs...)
}

// KeepScheduleAhead is KeepSchedulesAhead for one schedule. It returns
// booking.ErrNotFound for an unknown schedule and a
// *booking.ValidationError naming provider_id, location_id or
// consultation_type_id when one of them is inactive; an inactive schedule
// is left alone.
func (s *Store) KeepScheduleAhead(ctx context.Context, id uuid.UUID, now time.Time, ahead time.Duration) (GenerateResult, error) {
	var res GenerateResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		sc, err := scheduleWhere(tx.Clauses(clause.Locking{Strength: "UPDATE"}), id)
		if err != nil || !sc.Active {
			return err
		}
		loc, err := checkRefs(tx, sc.ProviderID, sc.LocationID, sc.ConsultationTypeID, true)
		if err != nil {
			return err
		}
		res, err = extendTx(tx, &sc, loc, now, ahead)
		return err
	})
	if err != nil {
		return GenerateResult{}, fmt.Errorf("schedule %s: generate ahead: %w", id, err)
	}
	return res, nil
}

// extendTx generates sc's days still to make (booking.Schedule.DaysAhead)
// in tx, which holds the schedule's row and its provider's locks, and
// records the last of them as the schedule's generated_through (and in
// sc.GeneratedThrough).
func extendTx(tx *gorm.DB, sc *booking.Schedule, loc booking.Location, now time.Time, ahead time.Duration) (GenerateResult, error) {
	var out GenerateResult
	tz, err := loadZone(loc.Timezone)
	if err != nil {
		return out, err
	}
	from, through, ok := sc.DaysAhead(now, ahead, tz)
	if !ok {
		return out, nil
	}
	// MAX_ADVANCE may be longer than one Occurrences call may span.
	for f := from; !f.After(through); f = f.AddDays(booking.MaxGenerateDays) {
		t := f.AddDays(booking.MaxGenerateDays - 1)
		if t.After(through) {
			t = through
		}
		res, err := generateTx(tx, *sc, tz, f, t, now)
		if err != nil {
			return out, err
		}
		out.Created += res.Created
		out.Skipped += res.Skipped
	}
	if err := tx.Model(&scheduleRow{}).Where("id = ?", sc.ID.String()).
		Update("generated_through", through.String()).Error; err != nil {
		return out, err
	}
	sc.GeneratedThrough = &through
	return out, nil
}

// schedulesDue returns the active schedules that DaysAhead says have days
// to make, read without locks: KeepScheduleAhead checks again under its
// lock. Clinics have tens of schedules, so reading them all is cheap, and
// an hourly run that finds nothing to do writes nothing.
func (s *Store) schedulesDue(ctx context.Context, now time.Time, ahead time.Duration) ([]uuid.UUID, error) {
	db := s.db.WithContext(ctx)
	var rows []scheduleRow
	if err := db.Where("active = ?", true).Find(&rows).Error; err != nil {
		return nil, err
	}
	var locs []locationRow
	if err := db.Select("id", "timezone").Find(&locs).Error; err != nil {
		return nil, err
	}
	zoneOf := make(map[string]string, len(locs))
	for _, l := range locs {
		zoneOf[l.ID] = l.Timezone
	}
	var due []uuid.UUID
	for _, r := range rows {
		sc, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		tz, err := loadZone(zoneOf[r.LocationID])
		if err != nil {
			return nil, err
		}
		if _, _, ok := sc.DaysAhead(now, ahead, tz); ok {
			due = append(due, sc.ID)
		}
	}
	return due, nil
}
