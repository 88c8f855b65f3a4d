package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// Slot holds are part of rule 1. A hold keeps one place of a slot for its
// holder until it expires; it is a row of slot_holds, not a change to
// slots.booked, because it must stop counting by itself when it expires,
// with no job running. So a place is free only when
//
//	booked + (live holds: expires_at > now) < capacity
//
// and every writer that takes a place, by hold or by booking, decides under
// the slot row's lock:
//
//   - a hold locks the slot row first (SELECT ... FOR NO KEY UPDATE on
//     PostgreSQL), and only then, in later statements, counts the live
//     holds and inserts its own. On PostgreSQL's READ COMMITTED each
//     statement sees what committed before it started, so counting after
//     the lock is granted sees every hold and booking that committed before
//     us; one "UPDATE ... WHERE booked + (SELECT count(*) ...) < capacity"
//     would not: after waiting for the lock it re-checks the row, not the
//     subquery;
//   - a booking takes its place with occupySlot's conditional UPDATE (the
//     row lock), then counts the live holds in a later statement and gives
//     up when they leave no place (countHeldAfterLock);
//   - a booking with a hold first locks the slot, deletes (consumes) its
//     hold, then takes the place the same way: the hold's place is there
//     for it, since no one else could take it while the hold lived.
//
// SQLite runs one writing transaction at a time, so the same statements are
// serial there.

// Hold is a slot hold: its place in SlotID is kept until ExpiresAt.
type Hold struct {
	ID        uuid.UUID
	SlotID    uuid.UUID
	ExpiresAt time.Time
}

// HoldLimitError is the error of a hold over the per-address limit; it
// matches booking.ErrHoldLimit. RetryAfter is how long until the first of
// the address's holds expires.
type HoldLimitError struct {
	RetryAfter time.Duration
}

func (e *HoldLimitError) Error() string { return booking.ErrHoldLimit.Error() }

// Unwrap makes errors.Is(err, booking.ErrHoldLimit) hold.
func (e *HoldLimitError) Unwrap() error { return booking.ErrHoldLimit }

// slotHoldRow is a row of slot_holds.
type slotHoldRow struct {
	ID         string    `gorm:"column:id;primaryKey"`
	SlotID     string    `gorm:"column:slot_id"`
	TokenHash  string    `gorm:"column:token_hash"`
	ClientHash string    `gorm:"column:client_hash"`
	ExpiresAt  int64     `gorm:"column:expires_at"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

func (slotHoldRow) TableName() string { return "slot_holds" }

// NewHold asks CreateHold for a hold: on SlotID, for the holder whose
// token hashes to TokenHash, from the client address whose hash is
// ClientHash, which may hold at most Limit live holds; it expires at
// ExpiresAt. Check decides whether the public may hold the slot, given the
// slot (with its live holds counted in Held) and its catalogue. DayCheck,
// when set, decides whether the slot's provider's local day may take one
// more hold, given its free places and live holds (slot_hold_share.go).
type NewHold struct {
	SlotID     uuid.UUID
	TokenHash  string
	ClientHash string
	Limit      int
	ExpiresAt  time.Time
	Check      func(booking.SlotInfo) error
	DayCheck   func(booking.DayHolds) error
}

// CreateHold takes a hold (see the top of this file for how rule 1 is kept).
// It returns a *booking.ValidationError naming slot_id for an unknown slot,
// a *HoldLimitError when the client address already has Limit live holds,
// booking.ErrSlotUnavailable when the slot has no free place, Check's
// errors, and a *HoldShareError when DayCheck refuses.
func (s *Store) CreateHold(ctx context.Context, h NewHold) (Hold, error) {
	var out Hold
	err := s.bookingTx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		if s.dialect == Postgres {
			// Serialises one address's holds, so two at once cannot both pass
			// the limit. Taken before the slot lock, always in this order.
			if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", "slot_holds:"+h.ClientHash).Error; err != nil {
				return fmt.Errorf("lock holds of the address: %w", err)
			}
		}
		if err := lockSlots(tx, h.SlotID); err != nil {
			return err
		}
		slot, err := slotWhere(tx, h.SlotID)
		if errors.Is(err, booking.ErrNotFound) {
			return booking.Invalid("slot_id", booking.FieldNotFound, "is not a known slot")
		}
		if err != nil {
			return err
		}
		var mine struct {
			N     int64
			First *int64
		}
		if err := tx.Raw("SELECT COUNT(*) AS n, MIN(expires_at) AS first FROM slot_holds WHERE client_hash = ? AND expires_at > ?",
			h.ClientHash, now.Unix()).Scan(&mine).Error; err != nil {
			return fmt.Errorf("count holds of the address: %w", err)
		}
		if h.Limit > 0 && mine.N >= int64(h.Limit) && mine.First != nil {
			return &HoldLimitError{RetryAfter: max(time.Second, time.Unix(*mine.First, 0).Sub(now))}
		}
		// Expired holds count for nothing; deleting them here only keeps the
		// table small. They are kept for a day, so that a booking with an
		// expired token is told so (hold_expired) rather than "unknown".
		if err := tx.Exec("DELETE FROM slot_holds WHERE slot_id = ? AND expires_at <= ?", h.SlotID.String(), now.Add(-expiredHoldKept).Unix()).Error; err != nil {
			return fmt.Errorf("delete expired holds: %w", err)
		}
		if slot.Held, err = countHeld(tx, h.SlotID, now); err != nil {
			return err
		}
		info, err := slotInfo(tx, slot)
		if err != nil {
			return err
		}
		if err := h.Check(info); err != nil {
			return err
		}
		if slot.Remaining() <= 0 {
			return booking.ErrSlotUnavailable
		}
		// HOLD_MAX_SHARE, under the day's lock (slot_hold_share.go).
		if err := s.checkDayHolds(tx, info, now, h.DayCheck); err != nil {
			return err
		}
		row := slotHoldRow{
			ID: uuid.NewString(), SlotID: h.SlotID.String(), TokenHash: h.TokenHash, ClientHash: h.ClientHash,
			ExpiresAt: h.ExpiresAt.Unix(), CreatedAt: utc(now),
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert hold: %w", err)
		}
		out = Hold{ID: uuid.MustParse(row.ID), SlotID: h.SlotID, ExpiresAt: time.Unix(row.ExpiresAt, 0).UTC()}
		return nil
	})
	if err != nil {
		return Hold{}, fmt.Errorf("create hold: %w", err)
	}
	return out, nil
}

// expiredHoldKept is how long an expired hold's row is kept.
const expiredHoldKept = 24 * time.Hour

// countHeld counts the live holds of a slot at now. Call it only with the
// slot row locked (see the top of this file).
func countHeld(tx *gorm.DB, slotID uuid.UUID, now time.Time) (int, error) {
	var n int64
	// Row().Scan, not GORM's reflecting Scan: this runs in every booking.
	if err := tx.Raw("SELECT COUNT(*) FROM slot_holds WHERE slot_id = ? AND expires_at > ?", slotID.String(), now.Unix()).
		Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("count holds: %w", err)
	}
	return int(n), nil
}

// consumeHold deletes the hold whose token hashes to tokenHash, for a
// booking in slotID at now; the slot row must be locked. It returns
// booking.ErrNotFound when no hold of slotID has that token (unknown, used,
// released, or another slot's: all alike) and booking.ErrHoldExpired when
// the hold expired.
func consumeHold(tx *gorm.DB, slotID uuid.UUID, tokenHash string, now time.Time) error {
	var rows []slotHoldRow
	if err := tx.Where("token_hash = ? AND slot_id = ?", tokenHash, slotID.String()).Limit(1).Find(&rows).Error; err != nil {
		return fmt.Errorf("find hold: %w", err)
	}
	if len(rows) == 0 {
		return fmt.Errorf("hold: %w", booking.ErrNotFound)
	}
	if rows[0].ExpiresAt <= now.Unix() {
		return booking.ErrHoldExpired
	}
	if err := tx.Exec("DELETE FROM slot_holds WHERE id = ?", rows[0].ID).Error; err != nil {
		return fmt.Errorf("consume hold: %w", err)
	}
	return nil
}

// unknownHoldTokenHash is compared with the token given for an unknown
// hold, so that it costs what a wrong token does.
var unknownHoldTokenHash = booking.HashToken("no hold has this id")

// ReleaseHold deletes hold id if token is its token. A wrong token and an
// unknown (or already used) hold are the same booking.ErrNotFound.
func (s *Store) ReleaseHold(ctx context.Context, id uuid.UUID, token string) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var rows []slotHoldRow
		if err := tx.Where("id = ?", id.String()).Limit(1).Find(&rows).Error; err != nil {
			return fmt.Errorf("find hold: %w", err)
		}
		hash := unknownHoldTokenHash
		if len(rows) == 1 {
			hash = rows[0].TokenHash
		}
		if !booking.TokenMatches(hash, token) || len(rows) == 0 {
			return fmt.Errorf("hold: %w", booking.ErrNotFound)
		}
		return tx.Exec("DELETE FROM slot_holds WHERE id = ?", id.String()).Error
	})
	if err != nil {
		return fmt.Errorf("release hold: %w", err)
	}
	return nil
}

// countLiveHolds sets Held on each of slots to its live holds now, in one
// query, so that staff views show a held place as taken.
func (s *Store) countLiveHolds(ctx context.Context, slots []booking.Slot) error {
	if len(slots) == 0 {
		return nil
	}
	ids := make([]string, len(slots))
	for i, sl := range slots {
		ids[i] = sl.ID.String()
	}
	var counts []struct {
		SlotID string
		N      int
	}
	if err := s.db.WithContext(ctx).Model(&slotHoldRow{}).Select("slot_id, COUNT(*) AS n").
		Where("expires_at > ? AND slot_id IN ?", s.now().Unix(), ids).Group("slot_id").Scan(&counts).Error; err != nil {
		return fmt.Errorf("count holds: %w", err)
	}
	for _, c := range counts {
		for i := range slots {
			if slots[i].ID.String() == c.SlotID {
				slots[i].Held = c.N
			}
		}
	}
	return nil
}

// LiveHolds counts the holds that count at now, for the slot_holds_active
// gauge.
func (s *Store) LiveHolds(ctx context.Context) (int, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&slotHoldRow{}).Where("expires_at > ?", s.now().Unix()).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("live holds: %w", err)
	}
	return int(n), nil
}
