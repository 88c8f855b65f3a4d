package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// SeedBooking is one booking for SeedBookings, with its history.
type SeedBooking struct {
	Booking booking.Booking
	Events  []booking.Event
}

// seedBatch is how many rows one INSERT statement of SeedBookings carries.
const seedBatch = 400

// SeedBookings inserts many bookings at once, with their events, in one
// transaction. It exists for load tests and large demo clinics (see
// cmd/loadtest), which need tens of thousands of bookings, past and
// future, in seconds rather than one request at a time; nothing on a request
// path calls it.
//
// It skips the rules CreateBooking and UpdateBooking apply (booking window,
// active catalogue, state transitions, Idempotency-Keys): the caller builds
// bookings and events that are valid, with booking.NewBooking and
// booking.Booking.Apply. It does keep rule 1: after the inserts, the booked
// count of every slot the bookings are in is set to the number of occupying
// bookings that slot now has, and the slots' CHECK (booked <= capacity)
// makes the whole call fail, inserting nothing, if that would overbook one.
//
// References are random (booking.NewReference), so two of them can be the
// same: as CreateBooking makes another when the reference is taken, so does
// SeedBookings, for a booking whose reference an earlier one of bs or a
// stored booking has; it writes the new one into bs.
//
// It returns a *booking.ValidationError naming slot_id when a booking's
// slot does not exist.
func (s *Store) SeedBookings(ctx context.Context, bs []SeedBooking) error {
	if len(bs) == 0 {
		return nil
	}
	slotIDs := make([]string, 0, len(bs))
	seen := make(map[string]bool, len(bs))
	for _, sb := range bs {
		id := sb.Booking.SlotID.String()
		if !seen[id] {
			seen[id] = true
			slotIDs = append(slotIDs, id)
		}
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// Each slot's start and what a booking of it snapshots (the names
		// and the time zone, as CreateBooking records them).
		type seedSlot struct {
			start int64
			names booking.Snapshot
		}
		slotsByID := make(map[string]seedSlot, len(slotIDs))
		for chunk := range slices.Chunk(slotIDs, seedBatch) {
			var rows []struct {
				ID, ProviderName, LocationName, LocationAddress, TypeName, Timezone string
				StartAt                                                             int64
			}
			err := tx.Raw(`SELECT s.id AS id, s.start_at AS start_at, p.name AS provider_name, l.name AS location_name,
       l.address AS location_address, c.name AS type_name, l.timezone AS timezone
FROM slots s JOIN providers p ON p.id = s.provider_id JOIN locations l ON l.id = s.location_id
  JOIN consultation_types c ON c.id = s.consultation_type_id
WHERE s.id IN ?`, chunk).Scan(&rows).Error
			if err != nil {
				return fmt.Errorf("seed slots: %w", err)
			}
			for _, r := range rows {
				slotsByID[r.ID] = seedSlot{start: r.StartAt, names: booking.Snapshot{
					ProviderName: r.ProviderName, LocationName: r.LocationName, LocationAddress: r.LocationAddress,
					ConsultationTypeName: r.TypeName, Timezone: r.Timezone,
				}}
			}
		}
		if err := freshReferences(ctx, tx, bs); err != nil {
			return err
		}
		rows := make([]bookingRow, 0, min(len(bs), seedBatch))
		var events []bookingEventRow
		flush := func() error {
			if len(rows) > 0 {
				if err := tx.CreateInBatches(rows, seedBatch).Error; err != nil {
					return fmt.Errorf("insert bookings: %w", err)
				}
			}
			if len(events) > 0 {
				if err := tx.CreateInBatches(events, seedBatch).Error; err != nil {
					return fmt.Errorf("insert booking events: %w", err)
				}
			}
			rows, events = rows[:0], events[:0]
			return nil
		}
		for _, sb := range bs {
			b := sb.Booking
			sl, ok := slotsByID[b.SlotID.String()]
			if !ok {
				return booking.Invalid("slot_id", booking.FieldNotFound, fmt.Sprintf("slot %s is not a known slot", b.SlotID))
			}
			if b.Snapshot == (booking.Snapshot{}) {
				b.Snapshot = sl.names
			}
			b.CreatedAt, b.UpdatedAt = utc(b.CreatedAt), utc(b.UpdatedAt)
			row, err := bookingToRow(b, time.Unix(sl.start, 0))
			if err != nil {
				return err
			}
			for _, e := range sb.Events {
				if e.BookingID != b.ID {
					return errors.New("an event of another booking")
				}
				if e.Actor.StaffID != nil && e.Type == booking.EventCreated {
					row.CreatedByStaffID = uuidPtrString(e.Actor.StaffID)
				}
				events = append(events, eventToRow(e))
			}
			rows = append(rows, row)
			if len(rows) == seedBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		// Each booking joins its patient record, as a booking made through
		// the API would.
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return errors.New("seed bookings: not in a database transaction")
		}
		if err := attachAllPatients(ctx, sqlTx, s.dialect == Postgres); err != nil {
			return err
		}
		if s.dialect == SQLite {
			// A booking and the record made with it share one search
			// document, as the triggers make them when a booking comes
			// with its record. Then, a batch load: write the queued
			// documents now (search_queue.go) and merge the index into one
			// segment, as after the migration (search.go).
			if err := shareSearchDocs(ctx, sqlTx); err != nil {
				return err
			}
			if err := flushSearchQueue(ctx, sqlTx); err != nil {
				return err
			}
			if err := tx.Exec("INSERT INTO booking_search (booking_search) VALUES ('optimize')").Error; err != nil {
				return fmt.Errorf("optimize booking_search: %w", err)
			}
		}
		occupying := make([]string, 0, 5)
		for _, st := range booking.Statuses() {
			if st.Occupies() {
				occupying = append(occupying, string(st))
			}
		}
		for chunk := range slices.Chunk(slotIDs, seedBatch) {
			err := tx.Exec(`UPDATE slots SET booked = (SELECT COUNT(*) FROM bookings b
  WHERE b.slot_id = slots.id AND b.status IN ?) WHERE id IN ?`, occupying, chunk).Error
			if err != nil {
				if isCheckViolation(err) {
					return fmt.Errorf("a slot would be overbooked: %w", booking.ErrSlotUnavailable)
				}
				return fmt.Errorf("count places: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed bookings: %w", err)
	}
	if s.dialect == Postgres {
		// A batch load: what autovacuum would do only a while later, done
		// now. The planner's statistics, so that the first queries do not
		// plan for empty tables (a search then reads every row); the
		// visibility map, without which the search's walk of
		// bookings_created reads every row's heap page although the index
		// holds what it needs; and the trigram indexes' pending lists,
		// which every search through them reads whole until a vacuum
		// merges them (a four-digit phone search took 120 ms on a freshly
		// seeded year, in a list of 50,000 rows' trigrams).
		if err := s.db.WithContext(ctx).Exec("VACUUM (ANALYZE) bookings, booking_events, patients, slots").Error; err != nil {
			return fmt.Errorf("seed bookings: vacuum: %w", err)
		}
	}
	return nil
}

// freshReferences gives each booking of bs whose reference an earlier one
// of bs or a row of bookings already has a new reference, in bs. Among the
// 50,000 bookings the load tool seeds, two share one of the 30^8 references
// in about one seed of 500 (50,000^2 / 2 / 30^8), which failed the whole
// seed on the unique index of bookings.reference.
func freshReferences(ctx context.Context, tx *gorm.DB, bs []SeedBooking) error {
	used := make(map[string]bool, len(bs))
	for chunk := range slices.Chunk(bs, seedBatch) {
		refs := make([]string, len(chunk))
		for i, sb := range chunk {
			refs[i] = sb.Booking.Reference
		}
		var stored []string
		if err := tx.WithContext(ctx).Model(&bookingRow{}).Where("reference IN ?", refs).Pluck("reference", &stored).Error; err != nil {
			return fmt.Errorf("look up references: %w", err)
		}
		for _, ref := range stored {
			used[ref] = true
		}
		for i := range chunk {
			b := &chunk[i].Booking
			for used[b.Reference] {
				ref, err := booking.NewReference()
				if err != nil {
					return fmt.Errorf("new reference: %w", err)
				}
				var n int64
				if err := tx.WithContext(ctx).Model(&bookingRow{}).Where("reference = ?", ref).Count(&n).Error; err != nil {
					return fmt.Errorf("look up reference: %w", err)
				}
				if n > 0 {
					used[ref] = true
				}
				b.Reference = ref
			}
			used[b.Reference] = true
		}
	}
	return nil
}
