package store

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// HOLD_MAX_SHARE is held here, in the hold's transaction: the live holds on
// one provider's local day (in the held slot's location's timezone) may
// keep only a share of that day's free places (booking.Policy.MaxDayHolds),
// so that holds taken from many addresses at once cannot block a day, let
// alone a week.
//
// Two holds on different slots of one day lock different slot rows, so on
// PostgreSQL each hold also takes the transaction-scoped advisory lock of
// its provider's day, after the slot's (the order is the address's lock,
// the slot's, the day's, always), and counts after it: the second waits for
// the first to commit and then sees its hold. SQLite runs one writing
// transaction at a time. Bookings do not take the day's lock: a booking
// taken meanwhile only lowers the free places, which the next hold sees.

// HoldShareError is the error of a hold over the day's share; it matches
// booking.ErrHoldShareReached. RetryAfter is how long until the first of
// the day's live holds expires.
type HoldShareError struct {
	RetryAfter time.Duration
}

func (e *HoldShareError) Error() string { return booking.ErrHoldShareReached.Error() }

// Unwrap makes errors.Is(err, booking.ErrHoldShareReached) hold.
func (e *HoldShareError) Unwrap() error { return booking.ErrHoldShareReached }

// checkDayHolds applies check, when set, to the local day of the slot info
// describes (its provider's free places and live holds that day) at now,
// under the day's lock.
func (s *Store) checkDayHolds(tx *gorm.DB, info booking.SlotInfo, now time.Time, check func(booking.DayHolds) error) error {
	if check == nil {
		return nil
	}
	loc, err := time.LoadLocation(info.Names.Timezone)
	if err != nil {
		return fmt.Errorf("day of the hold: %w", err)
	}
	sl := info.Slot
	day := booking.DateOf(sl.StartAt, loc)
	start, end := booking.LocalDay(day, loc)
	provider := sl.ProviderID.String()
	if s.dialect == Postgres {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", "slot_holds_day:"+provider+"/"+day.String()).Error; err != nil {
			return fmt.Errorf("lock the day's holds: %w", err)
		}
	}
	rt, err := rawTxOf(tx)
	if err != nil {
		return fmt.Errorf("day of the hold: %w", err)
	}
	var d booking.DayHolds
	// Free: the places of the day's open slots yet to start that no
	// booking takes (held places count as free: they are what is shared).
	if err := rt.queryRow(`SELECT COALESCE(SUM(capacity - booked), 0) FROM slots
WHERE provider_id = ? AND status = ? AND start_at >= ? AND start_at < ?`,
		[]any{provider, string(booking.SlotOpen), max(start.Unix(), now.Unix()), end.Unix()}, &d.Free); err != nil {
		return fmt.Errorf("free places of the day: %w", err)
	}
	var first *int64
	if err := rt.queryRow(`SELECT COUNT(*), MIN(h.expires_at) FROM slot_holds h JOIN slots s ON s.id = h.slot_id
WHERE s.provider_id = ? AND s.start_at >= ? AND s.start_at < ? AND h.expires_at > ?`,
		[]any{provider, start.Unix(), end.Unix(), now.Unix()}, &d.Held, &first); err != nil {
		return fmt.Errorf("live holds of the day: %w", err)
	}
	if err := check(d); err != nil {
		retry := time.Second
		if first != nil {
			retry = max(retry, time.Unix(*first, 0).Sub(now))
		}
		return &HoldShareError{RetryAfter: retry}
	}
	return nil
}
