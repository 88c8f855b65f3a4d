package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
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
// path calls it. It is a Seeder's Add of bs, then its Finish: a seed of
// hundreds of thousands of bookings calls those itself, a batch a
// transaction, and pays the seeder's start and finish once.
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
	sd, err := s.NewSeeder(ctx)
	if err != nil {
		return err
	}
	if err := sd.Add(ctx, bs); err != nil {
		return err
	}
	return sd.Finish(ctx)
}

// Seeder is SeedBookings in batches: Add inserts one batch in one
// transaction, as SeedBookings does, and Finish does what a batch load
// needs once at the end (the planner's statistics, the search index's
// merge). It keeps the patient records in memory, keyed as
// booking.MatchesPatient matches them, so that each batch attaches its
// bookings to their records with a few multi-row inserts instead of a
// query and an insert or update per booking. Like SeedBookings it is for
// load tests: one goroutine, nothing else writing patients meanwhile, and
// after an error the Seeder is not to be used again.
type Seeder struct {
	s *Store
	// patients by "p|dob|phone" and "e|dob|email_norm": the oldest
	// unmerged record with each, as matchPatientSQL finds it.
	patients map[string]*seedPatient
	// deferred are the definitions of the indexes DeferIndexes dropped,
	// which Finish makes again.
	deferred []string
	// added is how many bookings Add inserted, analyzed how many there
	// were at its last ANALYZE (PostgreSQL).
	added, analyzed int
}

// seedPatient is a record as the Seeder matches it.
type seedPatient struct {
	id      string
	created time.Time
}

// older reports whether p comes before q in matchPatientSQL's order.
func (p *seedPatient) older(q *seedPatient) bool {
	return p.created.Before(q.created) || p.created.Equal(q.created) && p.id < q.id
}

// NewSeeder reads the stored patient records once (unmerged ones, which
// are the ones a booking may join).
func (s *Store) NewSeeder(ctx context.Context) (*Seeder, error) {
	sd := &Seeder{s: s, patients: map[string]*seedPatient{}}
	var rows []struct {
		ID, DOB, Phone, EmailNorm string
		CreatedAt                 time.Time
	}
	err := s.db.WithContext(ctx).Raw(`SELECT id, dob, phone, email_norm, created_at FROM patients
WHERE merged_into IS NULL ORDER BY created_at, id`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("seed bookings: patients: %w", err)
	}
	for _, r := range rows {
		p := &seedPatient{id: r.ID, created: r.CreatedAt}
		sd.claim("p|"+r.DOB+"|"+r.Phone, p)
		if r.EmailNorm != "" {
			sd.claim("e|"+r.DOB+"|"+r.EmailNorm, p)
		}
	}
	return sd, nil
}

// claim records p under key unless an older record has it.
func (sd *Seeder) claim(key string, p *seedPatient) {
	if q, ok := sd.patients[key]; !ok || p.older(q) {
		sd.patients[key] = p
	}
}

// Add inserts bs with their events in one transaction, with the rules of
// SeedBookings: each booking joins its patient record (the oldest with the
// date of birth and the phone or the email, a new one when none has), and
// every touched slot's booked count is set from its occupying bookings.
func (sd *Seeder) Add(ctx context.Context, bs []SeedBooking) error {
	if len(bs) == 0 {
		return nil
	}
	s := sd.s
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
		rows := make([]bookingRow, len(bs))
		var events []bookingEventRow
		for i, sb := range bs {
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
			rows[i] = row
		}
		// Each booking joins its patient record, as a booking made through
		// the API would; the records are inserted before the bookings
		// that name them.
		made, older, err := sd.attach(rows)
		if err != nil {
			return err
		}
		if len(made) > 0 {
			if err := tx.CreateInBatches(made, seedBatch).Error; err != nil {
				return fmt.Errorf("insert patients: %w", err)
			}
		}
		for _, p := range older {
			if err := tx.Exec("UPDATE patients SET created_at = ? WHERE id = ?", utc(p.created), p.id).Error; err != nil {
				return fmt.Errorf("date patient: %w", err)
			}
		}
		if err := tx.CreateInBatches(rows, seedBatch).Error; err != nil {
			return fmt.Errorf("insert bookings: %w", err)
		}
		if len(events) > 0 {
			if err := tx.CreateInBatches(events, seedBatch).Error; err != nil {
				return fmt.Errorf("insert booking events: %w", err)
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
	sd.added += len(bs)
	if s.dialect == Postgres && sd.added >= 2*sd.analyzed {
		// Statistics as the tables grow, as autoanalyze would keep them
		// (it comes too late in a batch load): planned for the empty
		// tables, the count of each slot's places walked the status
		// index of every booking, and each batch took longer than the one
		// before (50,000 bookings: 150 s).
		if err := s.db.WithContext(ctx).Exec("ANALYZE bookings, booking_events, patients, slots").Error; err != nil {
			return fmt.Errorf("seed bookings: analyze: %w", err)
		}
		sd.analyzed = sd.added
	}
	return nil
}

// attach sets each row's patient_id, oldest booking first, with the rule
// new bookings follow (booking.MatchesPatient: the oldest unmerged record
// with the date of birth and the phone or the email). It returns the
// records to insert, and the stored ones a booking older than the record
// joined: such a record is dated back to that booking (batches come in
// roughly, not strictly, chronological order), so that no record is younger
// than a booking of it.
func (sd *Seeder) attach(rows []bookingRow) ([]patientRow, []*seedPatient, error) {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := rows[a].CreatedAt.Compare(rows[b].CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(rows[a].ID, rows[b].ID)
	})
	var made []patientRow
	isNew := map[*seedPatient]bool{}
	redated := map[*seedPatient]bool{}
	for _, i := range order {
		r := &rows[i]
		email := booking.NormalizeEmail(r.PatientEmail)
		phoneKey, emailKey := "p|"+r.PatientDOB+"|"+r.PatientPhone, ""
		p := sd.patients[phoneKey]
		if email != "" {
			emailKey = "e|" + r.PatientDOB + "|" + email
			if q := sd.patients[emailKey]; q != nil && (p == nil || q.older(p)) {
				p = q
			}
		}
		if p == nil {
			dob, err := booking.ParseDate(r.PatientDOB)
			if err != nil {
				return nil, nil, fmt.Errorf("attach patients: booking %s: %w", r.ID, err)
			}
			details := booking.Patient{FirstName: r.PatientFirstName, LastName: r.PatientLastName, DateOfBirth: dob, Phone: r.PatientPhone, Email: r.PatientEmail}
			row := patientToRow(booking.NewPatientRecord(details, r.CreatedAt))
			made = append(made, row)
			p = &seedPatient{id: row.ID, created: row.CreatedAt}
			isNew[p] = true
			sd.claim(phoneKey, p)
			if emailKey != "" {
				sd.claim(emailKey, p)
			}
		} else if r.CreatedAt.Before(p.created) && !isNew[p] {
			p.created = r.CreatedAt
			redated[p] = true
		}
		id := p.id
		r.PatientID = &id
	}
	var older []*seedPatient
	for p := range redated {
		older = append(older, p)
	}
	return made, older, nil
}

// DeferIndexes drops, on PostgreSQL, the trigram (GIN) indexes of bookings
// and patients until Finish builds them again from their definitions as
// stored: a GIN index built once over the loaded rows costs a fraction of
// one kept up to date row by row (a phone's or a search document's dozens
// of trigrams each). Until Finish, searches read whole tables: nothing may
// serve from the database meanwhile. On SQLite it does nothing.
func (sd *Seeder) DeferIndexes(ctx context.Context) error {
	if sd.s.dialect != Postgres || sd.deferred != nil {
		return nil
	}
	var idx []struct{ Indexname, Indexdef string }
	err := sd.s.db.WithContext(ctx).Raw(`SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = current_schema() AND tablename IN ('bookings', 'patients') AND indexdef LIKE '% USING gin %'
ORDER BY indexname`).Scan(&idx).Error
	if err != nil {
		return fmt.Errorf("seed bookings: indexes: %w", err)
	}
	sd.deferred = []string{}
	for _, ix := range idx {
		if err := sd.s.db.WithContext(ctx).Exec(`DROP INDEX "` + ix.Indexname + `"`).Error; err != nil {
			return fmt.Errorf("seed bookings: defer index %s: %w", ix.Indexname, err)
		}
		sd.deferred = append(sd.deferred, ix.Indexdef)
	}
	return nil
}

// Finish ends a batch load: on PostgreSQL it builds the indexes
// DeferIndexes dropped, then does what autovacuum would do only a
// while later, done now. The planner's statistics, so that the first
// queries do not plan for empty tables (a search then reads every row);
// the visibility map, without which the search's walk of bookings_created
// reads every row's heap page although the index holds what it needs; and
// the trigram indexes' pending lists, which every search through them
// reads whole until a vacuum merges them (a four-digit phone search took
// 120 ms on a freshly seeded year, in a list of 50,000 rows' trigrams). On
// SQLite it merges each search index into one segment, as after the
// migration (search.go).
func (sd *Seeder) Finish(ctx context.Context) error {
	s := sd.s
	if s.dialect == Postgres {
		for _, def := range sd.deferred {
			if err := s.db.WithContext(ctx).Exec(def).Error; err != nil {
				return fmt.Errorf("seed bookings: build index: %w", err)
			}
		}
		sd.deferred = nil
		if err := s.db.WithContext(ctx).Exec("VACUUM (ANALYZE) bookings, booking_events, patients, slots").Error; err != nil {
			return fmt.Errorf("seed bookings: vacuum: %w", err)
		}
		return nil
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return errors.New("not in a database transaction")
		}
		// A booking and the record made with it share one search
		// document, as the triggers make them when a booking comes with
		// its record (the Seeder inserts the records first, some dated
		// later). Then the queued documents are written and the index
		// merged into one segment, as after the migration (search.go).
		if err := shareSearchDocs(ctx, sqlTx); err != nil {
			return err
		}
		if err := flushSearchQueue(ctx, sqlTx); err != nil {
			return err
		}
		if err := tx.Exec("INSERT INTO booking_search (booking_search) VALUES ('optimize')").Error; err != nil {
			return fmt.Errorf("optimize booking_search: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed bookings: %w", err)
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
