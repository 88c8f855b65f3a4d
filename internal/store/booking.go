package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
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
//     line of defence: a write that would overbook fails.
//
// Bookings are changed read-modify-write (UpdateBooking): the row is read
// with a lock (FOR NO KEY UPDATE on PostgreSQL; SQLite's transaction holds
// the write lock from BEGIN), the domain method decides, and the save is a
// compare-and-swap on version. Slot rows are locked in id order, so two
// reschedules in opposite directions cannot deadlock.

// bookingRow is a row of bookings. SlotStartAt copies the slot's start (Unix
// seconds) to sort and filter the agenda without a join; SearchText is the
// lower-cased reference, names, phone and email that a search matches.
type bookingRow struct {
	ID                 string    `gorm:"column:id;primaryKey"`
	Reference          string    `gorm:"column:reference"`
	SlotID             string    `gorm:"column:slot_id"`
	Status             string    `gorm:"column:status"`
	Source             string    `gorm:"column:source"`
	PatientFirstName   string    `gorm:"column:patient_first_name"`
	PatientLastName    string    `gorm:"column:patient_last_name"`
	PatientDOB         string    `gorm:"column:patient_dob"`
	PatientPhone       string    `gorm:"column:patient_phone"`
	PatientEmail       string    `gorm:"column:patient_email"`
	SearchText         string    `gorm:"column:search_text"`
	Intake             string    `gorm:"column:intake"`
	ConsentPrivacy     bool      `gorm:"column:consent_privacy"`
	ConsentSMS         bool      `gorm:"column:consent_sms"`
	ConsentEmail       bool      `gorm:"column:consent_email"`
	Notes              string    `gorm:"column:notes"`
	CancellationReason string    `gorm:"column:cancellation_reason"`
	ManageTokenHash    string    `gorm:"column:manage_token_hash"`
	CreatedByStaffID   *string   `gorm:"column:created_by_staff_id"`
	Version            int       `gorm:"column:version"`
	SlotStartAt        int64     `gorm:"column:slot_start_at"`
	CreatedAt          time.Time `gorm:"column:created_at"`
	UpdatedAt          time.Time `gorm:"column:updated_at"`
}

func (bookingRow) TableName() string { return "bookings" }

// intakeJSON is the intake column: the answers as JSON, in the API's names.
type intakeJSON struct {
	PainSeverity           int      `json:"pain_severity"`
	RelievedBy             []string `json:"relieved_by"`
	PainStartedOn          string   `json:"pain_started_on,omitempty"`
	PreExistingConditions  []string `json:"pre_existing_conditions"`
	SpasmFrequency         string   `json:"spasm_frequency"`
	RecentPhysicalActivity bool     `json:"recent_physical_activity"`
	ActivityDetails        string   `json:"activity_details,omitempty"`
	Reason                 string   `json:"reason"`
}

func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

func typed[T ~string](in []string) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = T(v)
	}
	return out
}

// searchText is what a search over a booking looks in: reference, names,
// phone and email, lower-cased.
func searchText(b booking.Booking) string {
	return strings.ToLower(strings.Join([]string{
		b.Reference, b.Patient.FirstName, b.Patient.LastName, b.Patient.Phone, b.Patient.Email,
	}, " "))
}

func bookingToRow(b booking.Booking, slotStart time.Time) (bookingRow, error) {
	in := intakeJSON{
		PainSeverity: b.Intake.PainSeverity, RelievedBy: strs(b.Intake.RelievedBy),
		PreExistingConditions: strs(b.Intake.PreExistingConditions), SpasmFrequency: string(b.Intake.SpasmFrequency),
		RecentPhysicalActivity: b.Intake.RecentPhysicalActivity, ActivityDetails: b.Intake.ActivityDetails,
		Reason: b.Intake.Reason,
	}
	if b.Intake.PainStartedOn != nil {
		in.PainStartedOn = b.Intake.PainStartedOn.String()
	}
	intake, err := json.Marshal(in)
	if err != nil {
		return bookingRow{}, fmt.Errorf("booking intake: %w", err)
	}
	return bookingRow{
		ID: b.ID.String(), Reference: b.Reference, SlotID: b.SlotID.String(), Status: string(b.Status),
		Source: string(b.Source), PatientFirstName: b.Patient.FirstName, PatientLastName: b.Patient.LastName,
		PatientDOB: b.Patient.DateOfBirth.String(), PatientPhone: b.Patient.Phone, PatientEmail: b.Patient.Email,
		SearchText: searchText(b), Intake: string(intake),
		ConsentPrivacy: b.Consent.PrivacyPolicyAccepted, ConsentSMS: b.Consent.ContactBySMS, ConsentEmail: b.Consent.ContactByEmail,
		Notes: b.Notes, CancellationReason: b.CancellationReason, ManageTokenHash: b.ManageTokenHash,
		Version: b.Version, SlotStartAt: slotStart.Unix(), CreatedAt: utc(b.CreatedAt), UpdatedAt: utc(b.UpdatedAt),
	}, nil
}

func (r bookingRow) toDomain() (booking.Booking, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return booking.Booking{}, fmt.Errorf("booking row %q: %w", r.ID, err)
	}
	slotID, err := uuid.Parse(r.SlotID)
	if err != nil {
		return booking.Booking{}, fmt.Errorf("booking row %q: slot: %w", r.ID, err)
	}
	dob, err := booking.ParseDate(r.PatientDOB)
	if err != nil {
		return booking.Booking{}, fmt.Errorf("booking row %q: date of birth: %w", r.ID, err)
	}
	var in intakeJSON
	if err := json.Unmarshal([]byte(r.Intake), &in); err != nil {
		return booking.Booking{}, fmt.Errorf("booking row %q: intake: %w", r.ID, err)
	}
	intake := booking.Intake{
		PainSeverity: in.PainSeverity, RelievedBy: typed[booking.Relief](in.RelievedBy),
		PreExistingConditions: typed[booking.Condition](in.PreExistingConditions),
		SpasmFrequency:        booking.SpasmFrequency(in.SpasmFrequency), RecentPhysicalActivity: in.RecentPhysicalActivity,
		ActivityDetails: in.ActivityDetails, Reason: in.Reason,
	}
	if in.PainStartedOn != "" {
		d, err := booking.ParseDate(in.PainStartedOn)
		if err != nil {
			return booking.Booking{}, fmt.Errorf("booking row %q: pain start: %w", r.ID, err)
		}
		intake.PainStartedOn = &d
	}
	return booking.Booking{
		ID: id, Reference: r.Reference, SlotID: slotID, Status: booking.Status(r.Status), Source: booking.Source(r.Source),
		Patient: booking.Patient{
			FirstName: r.PatientFirstName, LastName: r.PatientLastName, DateOfBirth: dob,
			Phone: r.PatientPhone, Email: r.PatientEmail,
		},
		Intake:  intake,
		Consent: booking.Consent{PrivacyPolicyAccepted: r.ConsentPrivacy, ContactBySMS: r.ConsentSMS, ContactByEmail: r.ConsentEmail},
		Notes:   r.Notes, CancellationReason: r.CancellationReason, Version: r.Version, ManageTokenHash: r.ManageTokenHash,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

type bookingEventRow struct {
	ID           string    `gorm:"column:id;primaryKey"`
	BookingID    string    `gorm:"column:booking_id"`
	ActorType    string    `gorm:"column:actor_type"`
	ActorStaffID *string   `gorm:"column:actor_staff_id"`
	Type         string    `gorm:"column:type"`
	FromStatus   *string   `gorm:"column:from_status"`
	ToStatus     string    `gorm:"column:to_status"`
	Reason       string    `gorm:"column:reason"`
	At           time.Time `gorm:"column:at"`
}

func (bookingEventRow) TableName() string { return "booking_events" }

func eventToRow(e booking.Event) bookingEventRow {
	row := bookingEventRow{
		ID: e.ID.String(), BookingID: e.BookingID.String(), ActorType: string(e.Actor.Type),
		ActorStaffID: uuidPtrString(e.Actor.StaffID), Type: string(e.Type), ToStatus: string(e.To),
		Reason: e.Reason, At: utc(e.At),
	}
	if e.From != nil {
		from := string(*e.From)
		row.FromStatus = &from
	}
	return row
}

func (r bookingEventRow) toDomain() (booking.Event, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return booking.Event{}, fmt.Errorf("booking event row %q: %w", r.ID, err)
	}
	bid, err := uuid.Parse(r.BookingID)
	if err != nil {
		return booking.Event{}, fmt.Errorf("booking event row %q: %w", r.ID, err)
	}
	e := booking.Event{
		ID: id, BookingID: bid, Actor: booking.Actor{Type: booking.ActorType(r.ActorType), StaffID: parseUUIDPtr(r.ActorStaffID)},
		Type: booking.EventType(r.Type), To: booking.Status(r.ToStatus), Reason: r.Reason, At: r.At.UTC(),
	}
	if r.FromStatus != nil {
		from := booking.Status(*r.FromStatus)
		e.From = &from
	}
	return e, nil
}

// SlotInfo is what a decision about booking a slot needs: the slot as it
// was before the booking at hand took a place in it, its consultation type,
// and whether its provider, location and type are active.
type SlotInfo struct {
	Slot           booking.Slot
	Type           booking.ConsultationType
	ProviderActive bool
	LocationActive bool
}

// CatalogActive reports whether the slot's provider, location and
// consultation type are all active.
func (i SlotInfo) CatalogActive() bool {
	return i.ProviderActive && i.LocationActive && i.Type.Active
}

// Draft builds the booking to create once CreateBooking holds a place in
// the slot: it checks what the caller's rules require of the slot (the
// public booking window, an active catalogue), picks the initial status and
// returns the new booking with its "created" event, or an error that undoes
// everything. It may run more than once (see CreateBooking).
type Draft func(SlotInfo) (booking.Booking, booking.Event, error)

// Created is what CreateBooking did.
type Created struct {
	Booking booking.Booking
	Slot    booking.Slot // after the booking took its place
	// Replay is set when the Idempotency-Key had been used with the same
	// request: it is the first response, and nothing was created.
	Replay *Replay
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
// It returns a *booking.ValidationError naming slot_id when the slot does
// not exist, booking.ErrSlotUnavailable when it is blocked or full,
// booking.ErrIdempotencyKeyReused, and draft's own errors.
func (s *Store) CreateBooking(ctx context.Context, slotID uuid.UUID, draft Draft, idem *Idempotency) (Created, error) {
	var out Created
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
		row, err := bookingToRow(b, slot.StartAt)
		if err != nil {
			return err
		}
		row.CreatedByStaffID = uuidPtrString(ev.Actor.StaffID)
		if err := tx.Create(&row).Error; err != nil {
			if isUniqueViolation(err) {
				return errRetry // the reference is taken; draft makes another
			}
			return fmt.Errorf("insert booking: %w", err)
		}
		if err := insertEvents(tx, ev); err != nil {
			return err
		}
		if idem != nil {
			status, body, err := idem.Response(b, slot)
			if err != nil {
				return err
			}
			if err := finishIdempotencyKey(tx, idem, sec, status, body); err != nil {
				return err
			}
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
// one statement when the place is there (UPDATE ... RETURNING); when it is
// not, a read tells an unknown slot from a full or blocked one.
func occupySlot(tx *gorm.DB, slotID uuid.UUID, now time.Time) (booking.Slot, error) {
	rows, err := tx.Raw("UPDATE slots SET booked = booked + 1, updated_at = ? WHERE id = ? AND status = ? AND booked < capacity RETURNING "+slotColumns,
		utc(now), slotID.String(), string(booking.SlotOpen)).Rows()
	if err != nil {
		if isCheckViolation(err) {
			return booking.Slot{}, booking.ErrSlotUnavailable
		}
		return booking.Slot{}, fmt.Errorf("take a place: %w", err)
	}
	var (
		slot  booking.Slot
		taken bool
	)
	for rows.Next() {
		if slot, err = scanSlot(rows); err != nil {
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
		return slot, nil
	}
	if _, err := slotWhere(tx, slotID); errors.Is(err, booking.ErrNotFound) {
		return booking.Slot{}, booking.Invalid("slot_id", "is not a known slot")
	} else if err != nil {
		return booking.Slot{}, err
	}
	return booking.Slot{}, booking.ErrSlotUnavailable
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
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = id.String()
	}
	slices.Sort(keys)
	var got []string
	err := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Model(&slotRow{}).
		Where("id IN ?", keys).Order("id").Pluck("id", &got).Error
	if err != nil {
		return fmt.Errorf("lock slots: %w", err)
	}
	return nil
}

// slotInfo reads the slot's consultation type and whether its provider and
// location are active, in one query.
func slotInfo(tx *gorm.DB, sl booking.Slot) (SlotInfo, error) {
	rows, err := tx.Raw(`SELECT c.id, c.name, c.description, c.duration_minutes, c.requires_confirmation, c.active, c.created_at,
       p.active, l.active
FROM consultation_types c, providers p, locations l
WHERE c.id = ? AND p.id = ? AND l.id = ?`, sl.ConsultationTypeID.String(), sl.ProviderID.String(), sl.LocationID.String()).Rows()
	if err != nil {
		return SlotInfo{}, fmt.Errorf("slot catalogue: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return SlotInfo{}, fmt.Errorf("slot catalogue: %w", err)
		}
		return SlotInfo{}, fmt.Errorf("slot catalogue: %w", booking.ErrNotFound)
	}
	info := SlotInfo{Slot: sl}
	var ct consultationTypeRow
	if err := rows.Scan(&ct.ID, &ct.Name, &ct.Description, &ct.DurationMinutes, &ct.RequiresConfirmation, &ct.Active, &ct.CreatedAt,
		&info.ProviderActive, &info.LocationActive); err != nil {
		return SlotInfo{}, fmt.Errorf("slot catalogue: %w", err)
	}
	if info.Type, err = ct.toDomain(); err != nil {
		return SlotInfo{}, err
	}
	return info, rows.Close()
}

func insertEvents(tx *gorm.DB, events ...booking.Event) error {
	for _, e := range events {
		row := eventToRow(e)
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("append booking event: %w", err)
		}
	}
	return nil
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
		if slot, err = saveWithEvents(tx, &b, read.Version, events); err != nil {
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
type Move func(b *booking.Booking, from booking.Slot, to SlotInfo) ([]booking.Event, error)

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
			return booking.Invalid("slot_id", "is not a known slot")
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
		if slot, err = saveWithEvents(tx, &b, read.Version, events); err != nil {
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
// saves the booking with the compare-and-swap on readVersion, and appends
// the events. It returns the slot as it is after the change.
func saveWithEvents(tx *gorm.DB, b *booking.Booking, readVersion int, events []booking.Event) (booking.Slot, error) {
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
		"updated_at": b.UpdatedAt,
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

// unknownTokenHash is compared with the token given for a reference that
// does not exist, so that the answer takes as long as for a wrong token.
var unknownTokenHash = booking.HashToken("no booking has this reference")

// BookingByReference returns the booking with reference (as a person typed
// it; see booking.NormalizeReference) and its slot, if token is its manage
// token. An unknown or malformed reference and a wrong token are the same
// booking.ErrNotFound, and take about the same time: one indexed lookup and
// one constant-time hash comparison either way.
func (s *Store) BookingByReference(ctx context.Context, reference, token string) (booking.Booking, booking.Slot, error) {
	notFound := fmt.Errorf("booking: %w", booking.ErrNotFound)
	ref, ok := booking.NormalizeReference(reference)
	if !ok {
		ref = "" // no row has it; still do the lookup
	}
	// Only the id and the hash are read before the token is checked, so a
	// real reference costs no more than an unknown one until it matches.
	type credential struct {
		ID              string
		ManageTokenHash string
	}
	var creds []credential
	err := s.db.WithContext(ctx).Model(&bookingRow{}).Select("id", "manage_token_hash").
		Where("reference = ?", ref).Limit(1).Find(&creds).Error
	if err != nil {
		return booking.Booking{}, booking.Slot{}, fmt.Errorf("booking: %w", err)
	}
	hash := unknownTokenHash
	if len(creds) == 1 {
		hash = creds[0].ManageTokenHash
	}
	if match := booking.TokenMatches(hash, token); !match || len(creds) == 0 {
		return booking.Booking{}, booking.Slot{}, notFound
	}
	var row bookingRow
	if err := s.db.WithContext(ctx).Where("id = ?", creds[0].ID).Take(&row).Error; err != nil {
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

// Sort orders of ListBookings.
const (
	SortCreatedDesc = "-created_at" // newest first; the default
	SortStartAt     = "start_at"    // by slot start, earliest first
)

// BookingFilter selects and orders bookings for ListBookings. Zero fields
// do not filter.
type BookingFilter struct {
	Status     *booking.Status
	From, To   string // YYYY-MM-DD (inclusive days in each location's zone) or RFC 3339 (From inclusive, To exclusive)
	ProviderID *uuid.UUID
	LocationID *uuid.UUID
	Query      string // reference, patient name, phone or email
	Sort       string // SortCreatedDesc (default) or SortStartAt
	Cursor     string
	Limit      int
}

// BookingWithSlot is a booking with the slot it is in.
type BookingWithSlot struct {
	Booking booking.Booking
	Slot    booking.Slot
}

// ListBookings pages through the bookings f selects, in f's order, and
// returns the cursor of the next page ("" on the last). It returns a
// *booking.ValidationError naming from, to, sort or cursor when one of them
// cannot be used.
func (s *Store) ListBookings(ctx context.Context, f BookingFilter) ([]BookingWithSlot, string, error) {
	limit := clampLimit(f.Limit)
	db := s.db.WithContext(ctx)
	q := db.Model(&bookingRow{})
	var p booking.Problems
	from, fromDate, okFrom := parseBound(&p, "from", f.From)
	to, toDate, okTo := parseBound(&p, "to", f.To)
	sortBy := f.Sort
	if sortBy == "" {
		sortBy = SortCreatedDesc
	}
	p.Check(sortBy == SortCreatedDesc || sortBy == SortStartAt, "sort", "must be start_at or -created_at")
	if err := p.Err(); err != nil {
		return nil, "", err
	}

	if f.Status != nil {
		q = q.Where("status = ?", string(*f.Status))
	}
	if f.ProviderID != nil {
		q = q.Where("slot_id IN (SELECT id FROM slots WHERE provider_id = ?)", f.ProviderID.String())
	}
	if f.LocationID != nil {
		q = q.Where("slot_id IN (SELECT id FROM slots WHERE location_id = ?)", f.LocationID.String())
	}
	if okFrom || okTo {
		cond, args, err := s.startRange(ctx, f.LocationID, from, fromDate, to, toDate)
		if err != nil {
			return nil, "", err
		}
		q = q.Where(cond, args...)
	}
	for _, group := range searchTerms(f.Query) {
		parts := make([]string, len(group))
		args := make([]any, len(group))
		for i, term := range group {
			parts[i] = `search_text LIKE ? ESCAPE '\'`
			args[i] = "%" + likeEscaper.Replace(term) + "%"
		}
		q = q.Where("("+strings.Join(parts, " OR ")+")", args...)
	}

	c, hasCursor, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	badCursor := booking.Invalid("cursor", "is not a cursor this API returned")
	switch sortBy {
	case SortStartAt:
		q = q.Order("slot_start_at, id")
		if hasCursor {
			k, ok := strings.CutPrefix(c.key, "s")
			start, err := strconv.ParseInt(k, 10, 64)
			if !ok || err != nil {
				return nil, "", badCursor
			}
			q = q.Where("(slot_start_at > ? OR (slot_start_at = ? AND id > ?))", start, start, c.id)
		}
	default:
		q = q.Order("created_at DESC, id DESC")
		if hasCursor {
			k, ok := strings.CutPrefix(c.key, "c")
			if !ok {
				return nil, "", badCursor
			}
			t, err := parseTimeKey(k)
			if err != nil {
				return nil, "", err
			}
			q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", t, t, c.id)
		}
	}
	var rows []bookingRow
	if err := q.Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list bookings: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		key := "c" + timeKey(last.CreatedAt)
		if sortBy == SortStartAt {
			key = "s" + strconv.FormatInt(last.SlotStartAt, 10)
		}
		next = cursor{key: key, id: last.ID}.encode()
	}
	slots, err := slotsByID(db, rows)
	if err != nil {
		return nil, "", err
	}
	out := make([]BookingWithSlot, 0, len(rows))
	for _, r := range rows {
		b, err := r.toDomain()
		if err != nil {
			return nil, "", err
		}
		out = append(out, BookingWithSlot{Booking: b, Slot: slots[r.SlotID]})
	}
	return out, next, nil
}

func slotsByID(db *gorm.DB, rows []bookingRow) (map[string]booking.Slot, error) {
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.SlotID)
	}
	out := make(map[string]booking.Slot, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var slotRows []slotRow
	if err := db.Where("id IN ?", ids).Find(&slotRows).Error; err != nil {
		return nil, fmt.Errorf("list bookings: slots: %w", err)
	}
	for _, r := range slotRows {
		sl, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		out[r.ID] = sl
	}
	return out, nil
}

// parseBound reads a from or to filter: an RFC 3339 instant, or a
// YYYY-MM-DD date whose instants depend on each location's zone.
func parseBound(p *booking.Problems, field, s string) (time.Time, *booking.Date, bool) {
	if s == "" {
		return time.Time{}, nil, false
	}
	if len(s) == 10 {
		d, err := booking.ParseDate(s)
		if err != nil {
			p.Add(field, "must be a date YYYY-MM-DD or an RFC 3339 date-time with an offset")
			return time.Time{}, nil, false
		}
		return time.Time{}, &d, true
	}
	t, err := booking.ParseInstant(s)
	if err != nil {
		p.Add(field, "must be a date YYYY-MM-DD or an RFC 3339 date-time with an offset")
		return time.Time{}, nil, false
	}
	return t, nil, true
}

// startRange builds the condition on slot_start_at for a from/to filter.
// Instants are the same everywhere; a date is a local calendar day, so its
// bounds are computed in each location's zone and the condition is one
// branch per location (a clinic has a handful).
func (s *Store) startRange(ctx context.Context, locationID *uuid.UUID, from time.Time, fromDate *booking.Date,
	to time.Time, toDate *booking.Date) (string, []any, error) {
	type zoneRow struct {
		ID       string
		Timezone string
	}
	var zones []zoneRow
	q := s.db.WithContext(ctx).Table("locations").Select("id, timezone")
	if locationID != nil {
		q = q.Where("id = ?", locationID.String())
	}
	if err := q.Order("id").Find(&zones).Error; err != nil {
		return "", nil, fmt.Errorf("list bookings: locations: %w", err)
	}
	bound := func(instant time.Time, d *booking.Date, next bool, loc *time.Location) int64 {
		if d == nil {
			return instant.Unix()
		}
		day := *d
		if next {
			day = day.AddDays(1)
		}
		return time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, loc).Unix()
	}
	hasFrom, hasTo := fromDate != nil || !from.IsZero(), toDate != nil || !to.IsZero()
	var branches []string
	var args []any
	for _, z := range zones {
		loc, err := time.LoadLocation(z.Timezone)
		if err != nil {
			loc = time.UTC
		}
		var conds []string
		if hasFrom {
			conds = append(conds, "slot_start_at >= ?")
			args = append(args, bound(from, fromDate, false, loc))
		}
		if hasTo {
			conds = append(conds, "slot_start_at < ?")
			args = append(args, bound(to, toDate, true, loc))
		}
		conds = append(conds, "slot_id IN (SELECT id FROM slots WHERE location_id = ?)")
		args = append(args, z.ID)
		branches = append(branches, "("+strings.Join(conds, " AND ")+")")
	}
	if len(branches) == 0 {
		return "1 = 0", nil, nil
	}
	return "(" + strings.Join(branches, " OR ") + ")", args, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// searchTerms turns a search into groups of lower-case terms: a booking
// matches when, for every group, its search text holds one of the group's
// terms. A phone number, however typed, is searched in E.164 form (or as its
// digits, for part of a number); a reference typed without its dash is also
// searched with it (a reference of digits only may look like a phone number,
// so both are tried); anything else is words, each of which must appear.
func searchTerms(q string) [][]string {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return nil
	}
	var alternatives []string
	if phoneLike(q) {
		if v, ok := booking.NormalizePhone(q); ok {
			alternatives = append(alternatives, v)
		} else {
			alternatives = append(alternatives, strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, q))
		}
	}
	if ref, ok := booking.NormalizeReference(q); ok {
		alternatives = append(alternatives, q, strings.ToLower(ref))
	}
	if len(alternatives) > 0 {
		return [][]string{alternatives}
	}
	var out [][]string
	for _, w := range strings.Fields(q) {
		out = append(out, []string{w})
	}
	return out
}

// phoneLike reports whether q is written like (part of) a phone number:
// digits with the usual separators, at least four digits.
func phoneLike(q string) bool {
	digits := 0
	for i, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 4
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
