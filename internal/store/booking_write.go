package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/clinic/consult/internal/booking"
)

// Rule 1 (no overbooking) is held here. slots.booked counts the bookings that
// occupy each slot (booking.Status.Occupies) and only ever moves inside the
// transaction that changes a booking's occupancy:
//
//   - taking a place is one conditional UPDATE, "booked = booked + 1 WHERE
//     status = 'open' AND booked < capacity". The database evaluates the
//     condition and the increment atomically on the row (PostgreSQL waits
//     for a concurrent writer of the row and re-checks the condition on the
//     committed value; SQLite runs one writing transaction at a time), so
//     two callers can never both take the last place;
//   - releasing one is "booked = booked - 1";
//   - the CHECK (booked >= 0 AND booked <= capacity) on slots is the last
//     line of defence: a write that would overbook fails;
//   - live slot holds take places too, without touching booked (they expire
//     by themselves): right after its conditional UPDATE, which holds the
//     row lock, a booking counts them and gives up when they leave no place
//     (slot_hold.go has the whole argument).
//
// Bookings are changed read-modify-write (UpdateBooking): the row is read
// with a lock (FOR NO KEY UPDATE on PostgreSQL; SQLite's transaction holds
// the write lock from BEGIN), the domain method decides, and the save is a
// compare-and-swap on version. Slot rows are locked in id order, so two
// reschedules in opposite directions cannot deadlock.

// Draft builds the booking to create once CreateBooking holds a place in
// the slot: it checks what the caller's rules require of the slot (the
// public booking window, an active catalogue), picks the initial status and
// returns the new booking with its "created" event, or an error that undoes
// everything. It may run more than once (see CreateBooking).
type Draft func(booking.SlotInfo) (booking.Booking, booking.Event, error)

// Created is what CreateBooking did.
type Created struct {
	Booking booking.Booking
	Slot    booking.Slot // after the booking took its place
	// Replay is set when the Idempotency-Key had been used with the same
	// request: it is the first response, and nothing was created.
	Replay *Response
	// Response is, with an Idempotency-Key, the response rendered for the
	// new booking (Idempotency.Response) and kept for replay: the caller
	// answers with it rather than render the booking a second time.
	Response *Response
}

// CreateBooking takes a place in slot slotID and inserts the booking that
// draft builds, with its event, in one transaction; with idem, it also
// claims the Idempotency-Key and stores idem.Response's rendering of the
// result (see Idempotency). The place is taken first, with the conditional
// update described at the top of this file, so a full or blocked slot fails
// before draft runs, whoever else is booking it at the same moment. Draft may
// run again, with the transaction, when the new booking's reference is
// already taken.
//
// Options add rules (LivePerPatient).
//
// It returns a *booking.ValidationError naming slot_id when the slot does
// not exist, booking.ErrSlotUnavailable when it is blocked or full (live
// holds count), booking.ErrIdempotencyKeyReused, booking.ErrPatientLimitReached
// (with LivePerPatient), and draft's own errors.
func (s *Store) CreateBooking(ctx context.Context, slotID uuid.UUID, draft Draft, idem *Idempotency, opts ...CreateOption) (Created, error) {
	return s.createBooking(ctx, slotID, "", draft, idem, opts)
}

// CreateHeldBooking is CreateBooking for the holder of a slot hold on
// slotID, whose token hashes to holdTokenHash: the booking takes the held
// place (which no one else could take while the hold lived) and consumes
// the hold, in the same transaction. Besides CreateBooking's errors it
// returns booking.ErrNotFound when slotID has no hold with that token
// (unknown, used, released, or another slot's) and booking.ErrHoldExpired
// when the hold has expired.
func (s *Store) CreateHeldBooking(ctx context.Context, slotID uuid.UUID, holdTokenHash string, draft Draft, idem *Idempotency, opts ...CreateOption) (Created, error) {
	return s.createBooking(ctx, slotID, holdTokenHash, draft, idem, opts)
}

func (s *Store) createBooking(ctx context.Context, slotID uuid.UUID, holdTokenHash string, draft Draft, idem *Idempotency, opts []CreateOption) (Created, error) {
	var rules createRules
	for _, o := range opts {
		o(&rules)
	}
	var out Created
	if idem != nil {
		if err := idem.prepare(); err != nil {
			return Created{}, fmt.Errorf("create booking: %w", err)
		}
	}
	err := s.bookingTx(ctx, func(tx *gorm.DB) error {
		out = Created{}
		now := s.now()
		var sec idempotencySecrets
		if idem != nil {
			replay, secrets, err := claimIdempotencyKey(tx, idem, now)
			if err != nil {
				return err
			}
			if replay != nil {
				out.Replay = replay
				return nil
			}
			sec = secrets
		}
		if holdTokenHash != "" {
			// The slot row first, then the hold: see slot_hold.go.
			if err := lockSlots(tx, slotID); err != nil {
				return err
			}
			if err := consumeHold(tx, slotID, holdTokenHash, now); err != nil {
				return err
			}
		}
		slot, err := occupySlot(tx, slotID, now)
		if err != nil {
			return err
		}
		before := slot
		before.Booked--
		info, err := slotInfo(tx, before)
		if err != nil {
			return err
		}
		b, ev, err := draft(info)
		if err != nil {
			return err
		}
		if b.SlotID != slotID || !b.Status.Occupies() {
			return fmt.Errorf("create booking: draft for slot %s gave slot %s in status %s", slotID, b.SlotID, b.Status)
		}
		b.CreatedAt, b.UpdatedAt, ev.At = utc(b.CreatedAt), utc(b.UpdatedAt), utc(ev.At)
		b.Snapshot = info.Names
		if rules.inTx != nil { // a waitlist accept closes its entry first
			if err := rules.inTx(tx, b); err != nil {
				return err
			}
		}
		// MAX_LIVE_PER_PATIENT, under the patient's locks (patient_limit.go).
		if err := s.checkLivePerPatient(tx, rules, b, now); err != nil {
			return err
		}
		b.Locale = localeOrDefault(b.Locale) // as it is read back
		var rec *newDoc
		if b.PatientID, rec, err = s.attachPatient(tx, b.Patient, b.CreatedAt); err != nil {
			return err
		}
		row, err := bookingToRow(b, slot.StartAt)
		if err != nil {
			return err
		}
		row.CreatedByStaffID = uuidPtrString(ev.Actor.StaffID)
		if s.dialect != Postgres {
			// The search docid and document, which the insert trigger
			// would otherwise work out (search_docid.go).
			rt, err := rawTxOf(tx)
			if err != nil {
				return err
			}
			if err := insertBookingDocid(rt, row, rec); err != nil {
				return err
			}
			s.searchQueued.Store(true)
		}
		if err := insertBookingRow(tx, row); err != nil {
			if isUniqueViolation(err) {
				return errRetry // the reference is taken; draft makes another
			}
			return fmt.Errorf("insert booking: %w", err)
		}
		if err := insertEventRows(tx, ev); err != nil {
			return err
		}
		if rules.afterInsert != nil {
			if err := rules.afterInsert(tx, b); err != nil {
				return err
			}
		}
		// The feed's snapshot from the rows just written, not read back.
		if err := appendFeedSnapshot(tx, ev, row, slotToRow(slot)); err != nil {
			return err
		}
		// An urgent request is also "flagged", in the same transaction, so
		// staff hear of it (feed, webhooks, the alert email) exactly when
		// it exists.
		if flag, ok := booking.FlaggedEvent(b, ev); ok {
			if err := insertEventRows(tx, flag); err != nil {
				return err
			}
			if err := appendFeedSnapshot(tx, flag, row, slotToRow(slot)); err != nil {
				return err
			}
		}
		if err := insertManageToken(tx, b.ID, b.ManageTokenHash, "", b.CreatedAt); err != nil {
			return err
		}
		if idem != nil {
			resp, err := idem.Response(b, slot)
			if err != nil {
				return err
			}
			if err := finishIdempotencyKey(tx, idem, sec, resp); err != nil {
				return err
			}
			out.Response = &resp
		}
		out.Booking, out.Slot = b, slot
		return nil
	})
	if err != nil {
		return Created{}, fmt.Errorf("create booking: %w", err)
	}
	return out, nil
}

// slotColumns are the columns of slots that scanSlot reads, in its order.
const slotColumns = "id, provider_id, location_id, consultation_type_id, schedule_id, start_at, end_at, capacity, booked, status, created_at"

// scanSlot reads one row of slotColumns.
func scanSlot(rows *sql.Rows) (booking.Slot, error) {
	var r slotRow
	if err := rows.Scan(&r.ID, &r.ProviderID, &r.LocationID, &r.ConsultationTypeID, &r.ScheduleID,
		&r.StartAt, &r.EndAt, &r.Capacity, &r.Booked, &r.Status, &r.CreatedAt); err != nil {
		return booking.Slot{}, err
	}
	return r.toDomain()
}

// occupySlot takes one place in the slot and returns the slot after. It is
// one statement when the place is there (UPDATE ... RETURNING), then a
// count of the slot's live holds, which must leave the place free; when it
// is not there, a read tells an unknown slot from a full or blocked one.
//
// On SQLite the count is a column of the UPDATE's RETURNING: the writer's
// transaction excludes every other writer from BEGIN, so the count sees
// every committed hold whichever statement makes it, and the booking saves
// a statement. On PostgreSQL it stays a statement of its own, after the
// UPDATE: a RETURNING subquery would read with the UPDATE's snapshot, taken
// before it waited for the row's lock, and miss a hold committed meanwhile
// (see slot_hold.go).
func occupySlot(tx *gorm.DB, slotID uuid.UUID, now time.Time) (booking.Slot, error) {
	sqlite := tx.Dialector.Name() == "sqlite"
	q := "UPDATE slots SET booked = booked + 1, updated_at = ? WHERE id = ? AND status = ? AND booked < capacity RETURNING " + slotColumns
	args := []any{utc(now), slotID.String(), string(booking.SlotOpen)}
	if sqlite {
		q += ", (SELECT COUNT(*) FROM slot_holds WHERE slot_id = slots.id AND expires_at > ?)"
		args = append(args, now.Unix())
	}
	rows, err := tx.Raw(q, args...).Rows()
	if err != nil {
		if isCheckViolation(err) {
			return booking.Slot{}, booking.ErrSlotUnavailable
		}
		return booking.Slot{}, fmt.Errorf("take a place: %w", err)
	}
	var (
		slot  booking.Slot
		held  int
		taken bool
	)
	for rows.Next() {
		if sqlite {
			slot, held, err = scanSlotHeld(rows)
		} else {
			slot, err = scanSlot(rows)
		}
		if err != nil {
			rows.Close()
			return booking.Slot{}, fmt.Errorf("take a place: %w", err)
		}
		taken = true
	}
	err = rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if isCheckViolation(err) {
			return booking.Slot{}, booking.ErrSlotUnavailable
		}
		return booking.Slot{}, fmt.Errorf("take a place: %w", err)
	}
	if taken {
		if !sqlite {
			// The UPDATE holds the slot row's lock now, so the count sees
			// every hold committed before it (see slot_hold.go).
			if held, err = countHeld(tx, slotID, now); err != nil {
				return booking.Slot{}, err
			}
		}
		// The place just taken must not be one that a live hold keeps for
		// someone else.
		if slot.Booked+held > slot.Capacity {
			return booking.Slot{}, booking.ErrSlotUnavailable
		}
		return slot, nil
	}
	if _, err := slotWhere(tx, slotID); errors.Is(err, booking.ErrNotFound) {
		return booking.Slot{}, booking.Invalid("slot_id", booking.FieldNotFound, "is not a known slot")
	} else if err != nil {
		return booking.Slot{}, err
	}
	return booking.Slot{}, booking.ErrSlotUnavailable
}

// scanSlotHeld reads one row of slotColumns followed by a count of live
// holds.
func scanSlotHeld(rows *sql.Rows) (booking.Slot, int, error) {
	var (
		r    slotRow
		held int
	)
	if err := rows.Scan(&r.ID, &r.ProviderID, &r.LocationID, &r.ConsultationTypeID, &r.ScheduleID,
		&r.StartAt, &r.EndAt, &r.Capacity, &r.Booked, &r.Status, &r.CreatedAt, &held); err != nil {
		return booking.Slot{}, 0, err
	}
	slot, err := r.toDomain()
	return slot, held, err
}

// releaseSlot gives back one place in the slot.
func releaseSlot(tx *gorm.DB, slotID uuid.UUID, now time.Time) error {
	res := tx.Exec("UPDATE slots SET booked = booked - 1, updated_at = ? WHERE id = ?", utc(now), slotID.String())
	if res.Error != nil {
		return fmt.Errorf("release a place: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("release a place: slot %s is gone", slotID)
	}
	return nil
}

// lockSlots locks the slots' rows in id order, for the rest of tx
// (PostgreSQL; SQLite's transaction already excludes other writers).
func lockSlots(tx *gorm.DB, ids ...uuid.UUID) error {
	keys := idStrings(ids)
	slices.Sort(keys)
	var got []string
	err := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Model(&slotRow{}).
		Where("id IN ?", keys).Order("id").Pluck("id", &got).Error
	if err != nil {
		return fmt.Errorf("lock slots: %w", err)
	}
	return nil
}

// slotInfo reads the slot's consultation type, whether its provider and
// location are active, and their names (booking.Snapshot), in one query.
func slotInfo(tx *gorm.DB, sl booking.Slot) (booking.SlotInfo, error) {
	rows, err := tx.Raw(`SELECT c.id, c.name, c.description, c.duration_minutes, c.requires_confirmation, c.active, c.created_at,
       p.active, l.active, p.name, l.name, l.address, l.timezone
FROM consultation_types c, providers p, locations l
WHERE c.id = ? AND p.id = ? AND l.id = ?`, sl.ConsultationTypeID.String(), sl.ProviderID.String(), sl.LocationID.String()).Rows()
	if err != nil {
		return booking.SlotInfo{}, fmt.Errorf("slot catalogue: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return booking.SlotInfo{}, fmt.Errorf("slot catalogue: %w", err)
		}
		return booking.SlotInfo{}, fmt.Errorf("slot catalogue: %w", booking.ErrNotFound)
	}
	info := booking.SlotInfo{Slot: sl}
	var ct consultationTypeRow
	if err := rows.Scan(&ct.ID, &ct.Name, &ct.Description, &ct.DurationMinutes, &ct.RequiresConfirmation, &ct.Active, &ct.CreatedAt,
		&info.ProviderActive, &info.LocationActive, &info.Names.ProviderName, &info.Names.LocationName,
		&info.Names.LocationAddress, &info.Names.Timezone); err != nil {
		return booking.SlotInfo{}, fmt.Errorf("slot catalogue: %w", err)
	}
	if info.Type, err = ct.toDomain(); err != nil {
		return booking.SlotInfo{}, err
	}
	info.Names.ConsultationTypeName = info.Type.Name
	return info, rows.Close()
}

func insertEvents(tx *gorm.DB, events ...booking.Event) error {
	if err := insertEventRows(tx, events...); err != nil {
		return err
	}
	return appendFeed(tx, events...)
}

// insertEventRows appends the events to the bookings' histories, without
// their feed events (insertEvents adds those).
func insertEventRows(tx *gorm.DB, events ...booking.Event) error {
	rt, err := rawTxOf(tx)
	if err != nil {
		return fmt.Errorf("append booking event: %w", err)
	}
	for _, e := range events {
		r := eventToRow(e)
		if _, err := rt.exec(`INSERT INTO booking_events (id, booking_id, actor_type, actor_staff_id, type, from_status, to_status, reason, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.BookingID, r.ActorType, r.ActorStaffID, r.Type, r.FromStatus, r.ToStatus, r.Reason, r.At); err != nil {
			return fmt.Errorf("append booking event: %w", err)
		}
	}
	return nil
}

// insertBookingRow inserts a new booking's row.
func insertBookingRow(tx *gorm.DB, r bookingRow) error {
	rt, err := rawTxOf(tx)
	if err != nil {
		return err
	}
	_, err = rt.exec(`INSERT INTO bookings (id, reference, slot_id, status, source, patient_first_name, patient_last_name,
  patient_dob, patient_phone, patient_email, search_text, intake, consent_privacy, consent_sms, consent_email, notes,
  cancellation_reason, manage_token_hash, created_by_staff_id, patient_id, version, slot_start_at, provider_name,
  location_name, location_address, consultation_type_name, timezone, locale, created_at, updated_at,
  intake_form_version, triage_level, triage_rules, triage_override)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Reference, r.SlotID, r.Status, r.Source, r.PatientFirstName, r.PatientLastName,
		r.PatientDOB, r.PatientPhone, r.PatientEmail, r.SearchText, r.Intake, r.ConsentPrivacy, r.ConsentSMS, r.ConsentEmail, r.Notes,
		r.CancellationReason, r.ManageTokenHash, r.CreatedByStaffID, r.PatientID, r.Version, r.SlotStartAt, r.ProviderName,
		r.LocationName, r.LocationAddress, r.ConsultationType, r.Timezone, r.Locale, r.CreatedAt, r.UpdatedAt,
		r.IntakeFormVersion, r.TriageLevel, r.TriageRules, r.TriageOverride)
	return err
}

// Change applies a domain method to a booking that UpdateBooking read, given
// the slot it is in, and returns the events to append; no events means no
// change, and nothing is written. An error undoes everything.
type Change func(b *booking.Booking, slot booking.Slot) ([]booking.Event, error)

// UpdateBooking reads booking id with a lock, applies fn and saves the
// result in one transaction: the status, notes and contact details fn
// changed, a version one higher (a compare-and-swap on the version read), the
// slot's place released when the booking stops occupying it (or taken, with
// the conditional update, should it start again), and fn's events. fn must
// not move the booking to another slot; RescheduleBooking does that.
//
// With expectedVersion, a booking whose version differs is
// booking.ErrVersionMismatch and fn does not run. It returns
// booking.ErrNotFound for an unknown id, booking.ErrSlotUnavailable when a
// place cannot be taken back, and fn's own errors (such as
// booking.ErrInvalidTransition: of two concurrent confirmations, the second
// reads the booking the first confirmed and fails there). It returns the
// booking as saved and its slot.
func (s *Store) UpdateBooking(ctx context.Context, id uuid.UUID, expectedVersion *int, fn Change) (booking.Booking, booking.Slot, error) {
	var (
		out  booking.Booking
		slot booking.Slot
	)
	err := s.bookingTx(ctx, func(tx *gorm.DB) error {
		b, err := lockBooking(tx, id)
		if err != nil {
			return err
		}
		if expectedVersion != nil && b.Version != *expectedVersion {
			return booking.ErrVersionMismatch
		}
		if slot, err = slotWhere(tx, b.SlotID); err != nil {
			return err
		}
		read := b
		events, err := fn(&b, slot)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			out = read
			return nil
		}
		if b.SlotID != read.SlotID || b.ID != read.ID {
			return errors.New("update booking: a change may not move the booking to another slot")
		}
		now := s.now()
		switch was, is := read.Status.Occupies(), b.Status.Occupies(); {
		case was && !is:
			if err := releaseSlot(tx, b.SlotID, now); err != nil {
				return err
			}
		case !was && is:
			if _, err := occupySlot(tx, b.SlotID, now); err != nil {
				return err
			}
		}
		if slot, err = s.saveWithEvents(tx, &b, read.Version, events); err != nil {
			return err
		}
		out = b
		return nil
	})
	if err != nil {
		return booking.Booking{}, booking.Slot{}, fmt.Errorf("update booking: %w", err)
	}
	return out, slot, nil
}

// Move applies booking.Booking.Reschedule, and whatever rules the caller
// sets on the move, to a booking that RescheduleBooking read: from is the
// slot it is in, to the slot it is to move to (before the booking takes a
// place there). It returns the events to append, or an error that undoes
// everything.
type Move func(b *booking.Booking, from booking.Slot, to booking.SlotInfo) ([]booking.Event, error)

// RescheduleBooking moves booking id to slot to in one transaction: both
// slots are locked in id order, fn checks and applies the move, the new
// place is taken with the conditional update and the old one released, and
// the booking is saved with its events. Either all of it happens or none.
//
// It returns booking.ErrNotFound for an unknown booking, a
// *booking.ValidationError naming slot_id when slot to does not exist,
// booking.ErrSlotUnavailable when it is blocked or full, and fn's own errors
// (booking.ErrInvalidTransition for a booking that cannot move). It returns
// the booking as saved and its new slot.
func (s *Store) RescheduleBooking(ctx context.Context, id, to uuid.UUID, fn Move) (booking.Booking, booking.Slot, error) {
	var (
		out  booking.Booking
		slot booking.Slot
	)
	err := s.bookingTx(ctx, func(tx *gorm.DB) error {
		b, err := lockBooking(tx, id)
		if err != nil {
			return err
		}
		if err := lockSlots(tx, b.SlotID, to); err != nil {
			return err
		}
		from, err := slotWhere(tx, b.SlotID)
		if err != nil {
			return err
		}
		target, err := slotWhere(tx, to)
		if errors.Is(err, booking.ErrNotFound) {
			return booking.Invalid("slot_id", booking.FieldNotFound, "is not a known slot")
		}
		if err != nil {
			return err
		}
		info, err := slotInfo(tx, target)
		if err != nil {
			return err
		}
		read := b
		events, err := fn(&b, from, info)
		if err != nil {
			return err
		}
		if b.SlotID != to || len(events) == 0 {
			return errors.New("reschedule booking: the move did not move the booking")
		}
		b.Snapshot = info.Names
		now := s.now()
		if b.Status.Occupies() {
			if slot, err = occupySlot(tx, to, now); err != nil {
				return err
			}
		}
		if read.Status.Occupies() {
			if err := releaseSlot(tx, from.ID, now); err != nil {
				return err
			}
		}
		if slot, err = s.saveWithEvents(tx, &b, read.Version, events); err != nil {
			return err
		}
		out = b
		return nil
	})
	if err != nil {
		return booking.Booking{}, booking.Slot{}, fmt.Errorf("reschedule booking: %w", err)
	}
	return out, slot, nil
}

// saveWithEvents ends a booking change: it reads the booking's (new) slot,
// saves the booking with the compare-and-swap on readVersion and appends the
// events (and with them the feed events, which patient messages and webhooks
// are made from). It returns the slot as it is after the change.
func (s *Store) saveWithEvents(tx *gorm.DB, b *booking.Booking, readVersion int, events []booking.Event) (booking.Slot, error) {
	slot, err := slotWhere(tx, b.SlotID)
	if err != nil {
		return booking.Slot{}, err
	}
	if err := saveBooking(tx, b, readVersion, slot.StartAt); err != nil {
		return booking.Slot{}, err
	}
	if err := insertEvents(tx, events...); err != nil {
		return booking.Slot{}, err
	}
	return slot, nil
}

func lockBooking(tx *gorm.DB, id uuid.UUID) (booking.Booking, error) {
	var row bookingRow
	err := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Where("id = ?", id.String()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return booking.Booking{}, fmt.Errorf("booking: %w", booking.ErrNotFound)
	}
	if err != nil {
		return booking.Booking{}, fmt.Errorf("booking: %w", err)
	}
	return row.toDomain()
}

// saveBooking writes the booking's changeable columns if its version is
// still prevVersion, and sets b.Version to the next one. A lost
// compare-and-swap (which the row lock makes unlikely) retries the whole
// transaction.
func saveBooking(tx *gorm.DB, b *booking.Booking, prevVersion int, slotStart time.Time) error {
	b.Version = prevVersion + 1
	b.UpdatedAt = utc(b.UpdatedAt)
	res := tx.Model(&bookingRow{}).Where("id = ? AND version = ?", b.ID.String(), prevVersion).Updates(map[string]any{
		"slot_id": b.SlotID.String(), "status": string(b.Status), "patient_phone": b.Patient.Phone,
		"patient_email": b.Patient.Email, "search_text": searchText(*b), "notes": b.Notes,
		"cancellation_reason": b.CancellationReason, "version": b.Version, "slot_start_at": slotStart.Unix(),
		"updated_at": b.UpdatedAt, "provider_name": b.Snapshot.ProviderName, "location_name": b.Snapshot.LocationName,
		"location_address": b.Snapshot.LocationAddress, "consultation_type_name": b.Snapshot.ConsultationTypeName,
		"timezone": b.Snapshot.Timezone,
	})
	if res.Error != nil {
		return fmt.Errorf("save booking: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return errRetry
	}
	return nil
}

// errRetry asks bookingTx to run the transaction again: a generated
// reference was taken, or a compare-and-swap lost.
var errRetry = errors.New("transaction must be retried")

// bookingTx runs fn in a transaction, again (up to five times in all, after
// a short random pause) when it fails with errRetry or with a PostgreSQL
// serialization failure or deadlock.
func (s *Store) bookingTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	const attempts = 5
	for i := 1; ; i++ {
		err := s.tx(ctx, fn)
		if err == nil || i == attempts || !retryable(err) {
			if errors.Is(err, errRetry) {
				return errors.New("transaction still conflicting after retries")
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(rand.IntN(5*i)+1) * time.Millisecond):
		}
	}
}

func retryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// ExpirePending moves the pending bookings created before createdBefore to
// expired, at now, as the system, releasing their places; each in its own
// transaction through UpdateBooking, so a booking confirmed meanwhile, or
// expired by another instance, is left alone. It returns how many it
// expired.
func (s *Store) ExpirePending(ctx context.Context, createdBefore, now time.Time) (int, error) {
	const batch = 100
	expired := 0
	seen := map[string]bool{}
	for {
		var ids []string
		err := s.db.WithContext(ctx).Model(&bookingRow{}).
			Where("status = ? AND created_at < ?", string(booking.StatusPending), utc(createdBefore)).
			Order("created_at, id").Limit(batch).Pluck("id", &ids).Error
		if err != nil {
			return expired, fmt.Errorf("expire pending bookings: %w", err)
		}
		fresh := 0
		for _, raw := range ids {
			if seen[raw] {
				continue
			}
			seen[raw] = true
			fresh++
			id, err := uuid.Parse(raw)
			if err != nil {
				return expired, fmt.Errorf("expire pending bookings: %w", err)
			}
			changed := false
			_, _, err = s.UpdateBooking(ctx, id, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
				if b.Status != booking.StatusPending {
					return nil, nil
				}
				ev, err := b.Apply(booking.ActionExpire, booking.Actor{Type: booking.ActorSystem}, "", now)
				if err != nil {
					return nil, err
				}
				changed = true
				return []booking.Event{ev}, nil
			})
			if err != nil {
				return expired, fmt.Errorf("expire pending bookings: %w", err)
			}
			if changed {
				expired++
			}
		}
		if len(ids) < batch || fresh == 0 {
			return expired, nil
		}
	}
}
