package store

import (
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// MAX_LIVE_PER_PATIENT is held here, in the online booking's own
// transaction, with the discipline of rule 1 (booking_write.go): the count
// and the insert cannot be separated by another booking for the same
// patient.
//
//   - On PostgreSQL the transaction first takes the transaction-scoped
//     advisory locks of the patient's phone and normalised email, in
//     order; a concurrent online booking with the same phone or email
//     waits there until this one commits or rolls back. The counts are the
//     statement after, so on READ COMMITTED they see every booking that
//     committed before the lock was granted.
//   - SQLite runs one writing transaction at a time.
//
// The locks come after the slot row's lock (occupySlot) and before the
// date of birth's (attachPatient), always in that order, and nothing that
// holds them waits for a slot: no deadlock.
//
// Slot holds carry no patient details, so they do not count: a booking
// with a hold counts when it is made. Live waitlist entries from the web
// count too (countLiveOnline), and a join takes the same locks
// (JoinWaitlist).

// CreateOption adds a rule to CreateBooking and CreateHeldBooking.
type CreateOption func(*createRules)

// createRules are the rules CreateOptions set.
type createRules struct {
	livePerPatient int
	// inTx and afterInsert run in the create's transaction, before the
	// patient's limit is checked and after the booking row is inserted
	// (a waitlist accept, waitlist.go).
	inTx, afterInsert func(tx *gorm.DB, b booking.Booking) error
}

// LivePerPatient makes an online booking (booking.CountsOnline) fail with
// booking.CheckLivePerPatient's error when its patient already has max live
// future online bookings, by normalised email or by phone. A max of 0 or
// less means no limit. Bookings staff make are never refused.
func LivePerPatient(max int) CreateOption {
	return func(r *createRules) { r.livePerPatient = max }
}

// onlineLiveWhere selects the live online bookings, written as the partial
// indexes of migration 00080 write it.
const onlineLiveWhere = "source = 'web' AND status IN ('pending', 'confirmed', 'checked_in')"

// waitlistLiveWhere selects the live waitlist entries from the web.
const waitlistLiveWhere = "source = 'web' AND status IN ('waiting', 'offered')"

// checkLivePerPatient is the create step of MAX_LIVE_PER_PATIENT (see the
// top of this file) for the new booking b, at now.
func (s *Store) checkLivePerPatient(tx *gorm.DB, rules createRules, b booking.Booking, now time.Time) error {
	if rules.livePerPatient <= 0 || !booking.CountsOnline(b.Source) {
		return nil
	}
	email := booking.NormalizeEmail(b.Patient.Email)
	if err := s.lockOnlinePatient(tx, b.Patient.Phone, email); err != nil {
		return err
	}
	live, err := countLiveOnline(tx, b.Patient.Phone, email, now)
	if err != nil {
		return err
	}
	return booking.CheckLivePerPatient(rules.livePerPatient, live)
}

// lockOnlinePatient takes, on PostgreSQL, the transaction-scoped advisory
// locks of a patient's phone and normalised email (when there is one), in
// order.
func (s *Store) lockOnlinePatient(tx *gorm.DB, phone, email string) error {
	if s.dialect != Postgres {
		return nil
	}
	keys := []string{"online_patient:phone:" + phone}
	if email != "" {
		keys = append(keys, "online_patient:email:"+email)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", k).Error; err != nil {
			return fmt.Errorf("lock the patient's online bookings: %w", err)
		}
	}
	return nil
}

// countLiveOnline counts the live online bookings in slots that start after
// now with the phone, and with the normalised email (none when email is
// "").
func countLiveOnline(tx *gorm.DB, phone, email string, now time.Time) (booking.LiveOnline, error) {
	var live booking.LiveOnline
	rt, err := rawTxOf(tx)
	if err != nil {
		return live, fmt.Errorf("count the patient's online bookings: %w", err)
	}
	// Live waitlist entries from the web count as online bookings too.
	if err := rt.queryRow(`SELECT (SELECT COUNT(*) FROM bookings WHERE `+onlineLiveWhere+` AND patient_phone = ? AND slot_start_at > ?)
 + (SELECT COUNT(*) FROM waitlist_entries WHERE `+waitlistLiveWhere+` AND patient_phone = ?)`,
		[]any{phone, now.Unix(), phone}, &live.ByPhone); err != nil {
		return live, fmt.Errorf("count the patient's online bookings by phone: %w", err)
	}
	if email == "" {
		return live, nil
	}
	// lower() in SQL folds ASCII letters only (SQLite), email NormalizeEmail
	// every letter: a stored address with a non-ASCII capital is counted by
	// its phone alone.
	if err := rt.queryRow(`SELECT (SELECT COUNT(*) FROM bookings WHERE `+onlineLiveWhere+` AND lower(patient_email) = ? AND slot_start_at > ?)
 + (SELECT COUNT(*) FROM waitlist_entries WHERE `+waitlistLiveWhere+` AND lower(patient_email) = ?)`,
		[]any{email, now.Unix(), email}, &live.ByEmail); err != nil {
		return live, fmt.Errorf("count the patient's online bookings by email: %w", err)
	}
	return live, nil
}
