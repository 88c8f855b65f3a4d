package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
)

// patientRow is a row of patients. EmailNorm is the email as matching
// compares it; SearchText what a patient search looks in.
type patientRow struct {
	ID         string    `gorm:"column:id;primaryKey"`
	FirstName  string    `gorm:"column:first_name"`
	LastName   string    `gorm:"column:last_name"`
	DOB        string    `gorm:"column:dob"`
	Phone      string    `gorm:"column:phone"`
	Email      string    `gorm:"column:email"`
	EmailNorm  string    `gorm:"column:email_norm"`
	SearchText string    `gorm:"column:search_text"`
	MergedInto *string   `gorm:"column:merged_into"`
	Version    int       `gorm:"column:version"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	UpdatedAt  time.Time `gorm:"column:updated_at"`
}

func (patientRow) TableName() string { return "patients" }

func patientToRow(r booking.PatientRecord) patientRow {
	return patientRow{
		ID: r.ID.String(), FirstName: r.Details.FirstName, LastName: r.Details.LastName, DOB: r.Details.DateOfBirth.String(),
		Phone: r.Details.Phone, Email: r.Details.Email, EmailNorm: booking.NormalizeEmail(r.Details.Email),
		SearchText: patientSearchText(r.Details), MergedInto: uuidPtrString(r.MergedInto), Version: r.Version,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}
}

func (r patientRow) toDomain() (booking.PatientRecord, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return booking.PatientRecord{}, fmt.Errorf("patient row %q: %w", r.ID, err)
	}
	dob, err := booking.ParseDate(r.DOB)
	if err != nil {
		return booking.PatientRecord{}, fmt.Errorf("patient row %q: date of birth: %w", r.ID, err)
	}
	return booking.PatientRecord{
		ID: id, Details: booking.Patient{FirstName: r.FirstName, LastName: r.LastName, DateOfBirth: dob, Phone: r.Phone, Email: r.Email},
		Version: r.Version, MergedInto: parseUUIDPtr(r.MergedInto), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

// matchPatientSQL finds the record a booking joins (booking.MatchesPatient):
// the oldest unmerged record with the date of birth and the phone or the
// (non-empty) normalised email.
const matchPatientSQL = `SELECT id FROM patients
WHERE dob = ? AND merged_into IS NULL AND (phone = ? OR (email_norm <> '' AND email_norm = ?))
ORDER BY created_at, id LIMIT 1`

// attachPatient returns the id of the record a booking for p joins, making
// a new record when none matches, inside tx. Two transactions attaching the
// same new person at once must not both make a record: SQLite runs one
// writing transaction at a time; on PostgreSQL a transaction-scoped advisory
// lock on the date of birth makes the second wait for the first's commit
// (READ COMMITTED then sees its record). On SQLite a new record's search
// docid is written here and returned, for the booking to share.
func (s *Store) attachPatient(tx *gorm.DB, p booking.Patient, now time.Time) (uuid.UUID, *newDoc, error) {
	dob := p.DateOfBirth.String()
	if err := s.lockPatientDOBs(tx, dob); err != nil {
		return uuid.Nil, nil, fmt.Errorf("attach patient: %w", err)
	}
	rt, err := rawTxOf(tx)
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("attach patient: %w", err)
	}
	var id string
	err = rt.queryRow(matchPatientSQL, []any{dob, p.Phone, booking.NormalizeEmail(p.Email)}, &id)
	if err == nil {
		parsed, err := uuid.Parse(id)
		return parsed, nil, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return uuid.Nil, nil, fmt.Errorf("attach patient: %w", err)
	}
	rec := booking.NewPatientRecord(p, now)
	r := patientToRow(rec)
	var doc *newDoc
	if s.dialect != Postgres {
		// The record's docid first: its insert trigger then leaves it to
		// the booking (search_docid.go).
		d, err := insertPatientDocid(rt, r)
		if err != nil {
			return uuid.Nil, nil, fmt.Errorf("attach patient: %w", err)
		}
		doc = &d
	}
	if _, err := rt.exec(`INSERT INTO patients (id, first_name, last_name, dob, phone, email, email_norm, search_text, merged_into, version, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.FirstName, r.LastName, r.DOB, r.Phone, r.Email, r.EmailNorm, r.SearchText, r.MergedInto, r.Version, r.CreatedAt, r.UpdatedAt); err != nil {
		return uuid.Nil, nil, fmt.Errorf("attach patient: insert: %w", err)
	}
	return rec.ID, doc, nil
}

// lockPatientDOBs takes, on PostgreSQL, the transaction-scoped advisory
// locks of the dates of birth, in order: every change that decides which
// record a booking joins (attaching a booking, merging, editing the fields
// matching reads) holds the lock of the dates it concerns, so a booking
// cannot join a record that a concurrent merge is retiring, nor miss one an
// edit is making match. SQLite runs one writing transaction at a time.
func (s *Store) lockPatientDOBs(tx *gorm.DB, dobs ...string) error {
	if s.dialect != Postgres {
		return nil
	}
	dobs = slices.Clone(dobs)
	slices.Sort(dobs)
	for _, dob := range slices.Compact(dobs) {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", "patient:"+dob).Error; err != nil {
			return fmt.Errorf("lock patients born %s: %w", dob, err)
		}
	}
	return nil
}

// Patient returns record id. It returns booking.ErrNotFound for an unknown
// id.
func (s *Store) Patient(ctx context.Context, id uuid.UUID) (booking.PatientRecord, error) {
	return patientWhere(s.db.WithContext(ctx), id, false)
}

func patientWhere(db *gorm.DB, id uuid.UUID, lock bool) (booking.PatientRecord, error) {
	var row patientRow
	q := db
	if lock {
		q = q.Clauses(clause.Locking{Strength: "NO KEY UPDATE"})
	}
	err := q.Where("id = ?", id.String()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return booking.PatientRecord{}, fmt.Errorf("patient: %w", booking.ErrNotFound)
	}
	if err != nil {
		return booking.PatientRecord{}, fmt.Errorf("patient: %w", err)
	}
	return row.toDomain()
}

// maxPatientBookings bounds the bookings PatientBookings returns.
const maxPatientBookings = 500

// PatientBookings returns the bookings of record id, newest first (at most
// 500).
func (s *Store) PatientBookings(ctx context.Context, id uuid.UUID) ([]BookingWithSlot, error) {
	db := s.db.WithContext(ctx)
	ids := db.Model(&bookingRow{}).Select("id").Where("patient_id = ?", id.String()).
		Order("created_at DESC, id DESC").Limit(maxPatientBookings)
	rows, slots, err := readBookings(db, "b.id IN (?)", ids)
	if err != nil {
		return nil, fmt.Errorf("patient bookings: %w", err)
	}
	out := make([]BookingWithSlot, 0, len(rows))
	for i, r := range rows {
		b, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		sl, err := slots[i].toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, BookingWithSlot{Booking: b, Slot: sl})
	}
	// Newest first.
	slices.SortFunc(out, func(a, b BookingWithSlot) int {
		if c := b.Booking.CreatedAt.Compare(a.Booking.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.Booking.ID.String(), a.Booking.ID.String())
	})
	return out, nil
}

// ListPatients pages through the unmerged records q matches, newest first
// (see patientSearch for what q may be). It returns a *booking.ValidationError
// naming cursor for a cursor it did not make.
func (s *Store) ListPatients(ctx context.Context, q, cur string, limit int) ([]booking.PatientRecord, string, error) {
	out, _, next, err := s.listPatients(ctx, q, cur, limit, false)
	return out, next, err
}

// SearchPatients is ListPatients with the earlier visits of the page's
// records (see PatientVisits): the patient search's page. On PostgreSQL a
// search for one word reads the records and their visits in one statement.
func (s *Store) SearchPatients(ctx context.Context, q, cur string, limit int) ([]booking.PatientRecord, map[uuid.UUID]booking.Visits, string, error) {
	out, visits, next, err := s.listPatients(ctx, q, cur, limit, true)
	if err != nil || visits != nil {
		return out, visits, next, err
	}
	ids := make([]uuid.UUID, len(out))
	for i, r := range out {
		ids[i] = r.ID
	}
	visits, err = s.patientVisits(s.searchDB.WithContext(ctx), ids)
	return out, visits, next, err
}

// listPatients is ListPatients; with withVisits, the newest-first walk of
// PostgreSQL reads the records' visits too (else visits is nil).
func (s *Store) listPatients(ctx context.Context, q, cur string, limit int, withVisits bool) (out []booking.PatientRecord, visits map[uuid.UUID]booking.Visits, next string, err error) {
	db := s.db
	if strings.TrimSpace(q) != "" {
		// A search: on the search pool (see Store.searchDB).
		db = s.searchDB
	}
	db = db.WithContext(s.boundedQuery(ctx))
	if expr, ok := s.patientFTS(q); ok {
		// SQLite, words or digits: the page's matches come from the
		// full-text index newest first (newestMatches; the index holds
		// unmerged records only), then those records whole.
		limit = clampLimit(limit)
		c, before, hasCursor, err := decodeTimeCursor(listPatients, cur)
		if err != nil {
			return nil, nil, "", err
		}
		rows, more, err := searchPage(db, patientFTS, expr, before, c.id, hasCursor, limit)
		if err != nil {
			return nil, nil, "", fmt.Errorf("list patients: %w", err)
		}
		if more != nil {
			next = cursor{list: listPatients, key: timeKey(more.CreatedAt), id: more.ID}.encode()
		}
		out, err := mapRows(rows, patientRow.toDomain)
		return out, nil, next, err
	}
	_, groups := patientGroups(q)
	if s.dialect == Postgres && walkable(groups) {
		// One word: the newest records first, in patients_created
		// (newestWalk); the trigram index below when they do not fill
		// the page.
		limit = clampLimit(limit)
		c, before, hasCursor, err := decodeTimeCursor(listPatients, cur)
		if err != nil {
			return nil, nil, "", err
		}
		walk := newestWalk(db, s.walkBudget, "patients", true, groups[0][0], before, c.id, hasCursor, limit+1)
		var rows []patientRow
		if withVisits {
			rows, visits, err = readPatientsVisits(db, walk)
		} else {
			rows, err = readPatients(db, "id IN (?)", walk)
		}
		if err != nil {
			return nil, nil, "", fmt.Errorf("list patients: %w", err)
		}
		if len(rows) > limit {
			if id, err := uuid.Parse(rows[limit].ID); err == nil {
				delete(visits, id) // the next page's
			}
			rows = rows[:limit]
			last := rows[limit-1]
			out, err := mapRows(rows, patientRow.toDomain)
			return out, visits, cursor{list: listPatients, key: timeKey(last.CreatedAt), id: last.ID}.encode(), err
		}
	}
	list := db.Model(&patientRow{}).Where("merged_into IS NULL")
	list = s.patientSearch(list, q)
	col := "created_at"
	if len(groups) > 0 {
		// PostgreSQL: sort the trigram index's matches rather than walk
		// patients_created testing every record (as ListBookings).
		col = "(created_at + interval '0 second')"
	}
	rows, next, err := pageByTime(list, listPatients, cur, limit, col, true,
		func(r patientRow) (time.Time, string) { return r.CreatedAt, r.ID })
	if err != nil {
		return nil, nil, "", fmt.Errorf("list patients: %w", err)
	}
	out, err = mapRows(rows, patientRow.toDomain)
	return out, nil, next, err
}

// patientGroups reads a patient search: a date of birth in any of the
// forms booking.BirthDates reads (the days it may name), phone digits (at
// least four, in any format) or words (folded, see wordGroups). Exactly one
// of dobs and groups is set for a non-empty q.
func patientGroups(q string) (dobs []string, groups [][]string) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return nil, nil
	}
	if days := booking.BirthDates(q); len(days) > 0 {
		for _, d := range days {
			dobs = append(dobs, d.String())
		}
		return dobs, nil
	}
	if booking.PhoneLike(q) {
		return nil, [][]string{{booking.DigitsOf(q)}}
	}
	return nil, wordGroups(strings.Fields(q))
}

// patientFTS returns the FTS4 expression of a word or digit search on
// SQLite ("" when q has no letter or digit: nothing matches), and false
// when the search does not go through the full-text index.
func (s *Store) patientFTS(q string) (string, bool) {
	if s.dialect != SQLite {
		return "", false
	}
	_, groups := patientGroups(q)
	if len(groups) == 0 {
		return "", false
	}
	return ftsQuery(groups), true
}

// patientSearch narrows db to the records q matches, where the full-text
// index does not serve it (see ListPatients): a date of birth matches the
// records born on any day it may name (1980-04-02 exactly; 04/02/1980 on
// 2 April or 4 February, see booking.BirthDates); on PostgreSQL a phone number in any format matches
// records whose phone holds those digits, and words must each appear in the
// names or email. Every character of q is text (see search.go).
func (s *Store) patientSearch(db *gorm.DB, q string) *gorm.DB {
	dobs, groups := patientGroups(q)
	if len(dobs) > 0 {
		return db.Where("dob IN ?", dobs)
	}
	if booking.PhoneLike(strings.TrimSpace(q)) {
		// Digits are looked for in the phone itself, through its own
		// trigram index (00092_phone_search.sql).
		return db.Where("phone LIKE ?", "%"+groups[0][0]+"%")
	}
	return wordsLike(db, groups)
}

// PatientChange changes a record read under lock; it reports whether
// anything changed (nothing is written when not).
type PatientChange func(r *booking.PatientRecord) (bool, error)

// UpdatePatient reads record id under lock, applies fn and saves the record
// with the next version. With expectedVersion, another version is
// booking.ErrVersionMismatch. A merged record cannot change
// (booking.ErrMergeConflict). It returns booking.ErrNotFound for an unknown
// id, and fn's errors.
func (s *Store) UpdatePatient(ctx context.Context, id uuid.UUID, expectedVersion *int, fn PatientChange) (booking.PatientRecord, error) {
	var out booking.PatientRecord
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r, err := patientWhere(tx, id, true)
		if err != nil {
			return err
		}
		if expectedVersion != nil && r.Version != *expectedVersion {
			return booking.ErrVersionMismatch
		}
		if r.MergedInto != nil {
			return booking.Errorf(booking.CodeMergeConflict, "the patient was merged into %s; change that one", *r.MergedInto)
		}
		oldDOB := r.Details.DateOfBirth.String()
		changed, err := fn(&r)
		if err != nil || !changed {
			out = r
			return err
		}
		if err := s.lockPatientDOBs(tx, oldDOB, r.Details.DateOfBirth.String()); err != nil {
			return err
		}
		prev := r.Version
		r.Version++
		row := patientToRow(r)
		res := tx.Model(&patientRow{}).Where("id = ? AND version = ?", row.ID, prev).Updates(map[string]any{
			"first_name": row.FirstName, "last_name": row.LastName, "dob": row.DOB, "phone": row.Phone,
			"email": row.Email, "email_norm": row.EmailNorm, "search_text": row.SearchText,
			"version": row.Version, "updated_at": row.UpdatedAt,
		})
		if res.Error != nil {
			return fmt.Errorf("save patient: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return booking.ErrVersionMismatch
		}
		out = r
		return nil
	})
	if err != nil {
		return booking.PatientRecord{}, fmt.Errorf("update patient: %w", err)
	}
	return out, nil
}

// MergePatient merges record from into record into for staff member actor
// at now: from's bookings move to into, from is marked merged (and no
// longer matches new bookings), and an audit event records who merged what,
// all in one transaction. It returns booking.ErrNotFound when either is
// unknown, and an error matching booking.ErrMergeConflict for a merge into
// itself or from or into a merged record. It returns into as it is after.
func (s *Store) MergePatient(ctx context.Context, from, into uuid.UUID, actor uuid.UUID, clientIP string, now time.Time) (booking.PatientRecord, int, error) {
	var (
		out   booking.PatientRecord
		moved int
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// Lock both in id order, so two opposite merges cannot deadlock.
		first, second := from, into
		if strings.Compare(into.String(), from.String()) < 0 {
			first, second = into, from
		}
		recs := map[uuid.UUID]booking.PatientRecord{}
		for _, id := range []uuid.UUID{first, second} {
			r, err := patientWhere(tx, id, true)
			if err != nil {
				return err
			}
			recs[id] = r
		}
		src, dst := recs[from], recs[into]
		if err := booking.CheckMerge(src, dst); err != nil {
			return err
		}
		// After this, no booking still being made can join the record
		// being retired (see lockPatientDOBs).
		if err := s.lockPatientDOBs(tx, src.Details.DateOfBirth.String(), dst.Details.DateOfBirth.String()); err != nil {
			return err
		}
		res := tx.Model(&bookingRow{}).Where("patient_id = ?", from.String()).Update("patient_id", into.String())
		if res.Error != nil {
			return fmt.Errorf("move bookings: %w", res.Error)
		}
		moved = int(res.RowsAffected)
		if err := tx.Model(&patientRow{}).Where("id = ?", from.String()).Updates(map[string]any{
			"merged_into": into.String(), "version": src.Version + 1, "updated_at": utc(now),
		}).Error; err != nil {
			return fmt.Errorf("mark merged: %w", err)
		}
		if err := tx.Model(&patientRow{}).Where("id = ?", into.String()).Updates(map[string]any{
			"version": dst.Version + 1, "updated_at": utc(now),
		}).Error; err != nil {
			return fmt.Errorf("merge into: %w", err)
		}
		dst.Version++
		dst.UpdatedAt = utc(now)
		actorID := actor.String()
		audit := auditRow{
			ID: uuid.NewString(), Type: string(auth.AuditPatientMerged), ActorStaffID: &actorID, ClientIP: clientIP,
			Detail: fmt.Sprintf("patient %s merged into %s (%d bookings moved)", from, into, moved), At: utc(now),
		}
		if err := tx.Create(&audit).Error; err != nil {
			return fmt.Errorf("audit merge: %w", err)
		}
		out = dst
		return nil
	})
	if err != nil {
		return booking.PatientRecord{}, 0, fmt.Errorf("merge patient: %w", err)
	}
	return out, moved, nil
}

// backfillPatients is the Go migration that follows the patients table:
// it writes every booking's search document again (the form changed) and
// attaches every booking to a patient record.
func backfillPatients(ctx context.Context, tx *sql.Tx, postgres bool) error {
	if err := redoSearchText(ctx, tx, postgres); err != nil {
		return err
	}
	return attachAllPatients(ctx, tx, postgres)
}

// bindFor rewrites ? placeholders as $1, $2... for PostgreSQL.
func bindFor(postgres bool) func(string) string {
	return func(q string) string {
		if !postgres {
			return q
		}
		var b strings.Builder
		n := 0
		for _, c := range q {
			if c == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(c)
		}
		return b.String()
	}
}

// redoSearchText writes every booking's search document again.
func redoSearchText(ctx context.Context, tx *sql.Tx, postgres bool) error {
	bind := bindFor(postgres)
	// The search documents of bookings written before this version are in
	// an older form: write them again (search.go).
	docs, err := tx.QueryContext(ctx, `SELECT id, reference, patient_first_name, patient_last_name, patient_phone, patient_email FROM bookings`)
	if err != nil {
		return fmt.Errorf("backfill search text: %w", err)
	}
	type doc struct{ id, text string }
	var redo []doc
	for docs.Next() {
		var id, ref, first, last, phone, email string
		if err := docs.Scan(&id, &ref, &first, &last, &phone, &email); err != nil {
			docs.Close()
			return fmt.Errorf("backfill search text: %w", err)
		}
		redo = append(redo, doc{id, searchDoc([]string{first, last, email}, ref, phone)})
	}
	if err := docs.Close(); err != nil {
		return fmt.Errorf("backfill search text: %w", err)
	}
	for _, d := range redo {
		if _, err := tx.ExecContext(ctx, bind("UPDATE bookings SET search_text = ? WHERE id = ?"), d.text, d.id); err != nil {
			return fmt.Errorf("backfill search text: %w", err)
		}
	}

	return nil
}

// attachAllPatients attaches every booking without a patient to one, oldest
// booking first, with the rule new bookings follow (booking.MatchesPatient:
// the oldest unmerged record with the date of birth and the phone or the
// email). It keeps the records in memory, so a year of bookings takes one
// pass; the records there already count first.
func attachAllPatients(ctx context.Context, tx *sql.Tx, postgres bool) error {
	bind := bindFor(postgres)
	type made struct {
		id    string
		order int
	}
	byPhone, byEmail := map[string]made{}, map[string]made{}
	existing, err := tx.QueryContext(ctx, `SELECT id, dob, phone, email_norm FROM patients WHERE merged_into IS NULL ORDER BY created_at, id`)
	if err != nil {
		return fmt.Errorf("attach patients: %w", err)
	}
	order := 0
	for existing.Next() {
		var id, dob, phone, email string
		if err := existing.Scan(&id, &dob, &phone, &email); err != nil {
			existing.Close()
			return fmt.Errorf("attach patients: %w", err)
		}
		m := made{id: id, order: order}
		order++
		if _, taken := byPhone[dob+"|"+phone]; !taken {
			byPhone[dob+"|"+phone] = m
		}
		if _, taken := byEmail[dob+"|"+email]; email != "" && !taken {
			byEmail[dob+"|"+email] = m
		}
	}
	if err := existing.Close(); err != nil {
		return fmt.Errorf("attach patients: %w", err)
	}
	insert, err := tx.PrepareContext(ctx, bind(`INSERT INTO patients (id, first_name, last_name, dob, phone, email, email_norm, search_text, version, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`))
	if err != nil {
		return fmt.Errorf("backfill patients: %w", err)
	}
	defer insert.Close()
	update, err := tx.PrepareContext(ctx, bind(`UPDATE bookings SET patient_id = ? WHERE id = ?`))
	if err != nil {
		return fmt.Errorf("backfill patients: %w", err)
	}
	defer update.Close()
	// Oldest bookings first, a chunk at a time (each chunk's bookings get
	// their patient, so the next query starts after them): memory stays
	// flat however many bookings there are. byPhone and byEmail hold the
	// records by dob+phone and dob+email with their order of creation: when
	// both keys match different records the older wins, as matchPatientSQL's
	// ORDER BY created_at says.
	for {
		rows, err := tx.QueryContext(ctx, `SELECT id, patient_first_name, patient_last_name, patient_dob, patient_phone, patient_email, created_at
	FROM bookings WHERE patient_id IS NULL ORDER BY created_at, id LIMIT 5000`)
		if err != nil {
			return fmt.Errorf("backfill patients: %w", err)
		}
		type pending struct {
			id                            string
			first, last, dob, phone, mail string
			created                       time.Time
		}
		var list []pending
		for rows.Next() {
			var p pending
			if err := rows.Scan(&p.id, &p.first, &p.last, &p.dob, &p.phone, &p.mail, &p.created); err != nil {
				rows.Close()
				return fmt.Errorf("backfill patients: %w", err)
			}
			list = append(list, p)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("backfill patients: %w", err)
		}
		if len(list) == 0 {
			return nil
		}
		for i, p := range list {
			email := booking.NormalizeEmail(p.mail)
			m, ok := byPhone[p.dob+"|"+p.phone]
			if e, eok := byEmail[p.dob+"|"+email]; email != "" && eok && (!ok || e.order < m.order) {
				m, ok = e, true
			}
			if !ok {
				dob, err := booking.ParseDate(p.dob)
				if err != nil {
					return fmt.Errorf("backfill patients: booking %s: %w", p.id, err)
				}
				details := booking.Patient{FirstName: p.first, LastName: p.last, DateOfBirth: dob, Phone: p.phone, Email: p.mail}
				rec := booking.NewPatientRecord(details, p.created)
				row := patientToRow(rec)
				if _, err := insert.ExecContext(ctx, row.ID, row.FirstName, row.LastName, row.DOB, row.Phone, row.Email,
					row.EmailNorm, row.SearchText, row.CreatedAt, row.UpdatedAt); err != nil {
					return fmt.Errorf("backfill patients: %w", err)
				}
				m = made{id: row.ID, order: order + i}
				// Only the record's own keys match later bookings.
				if _, taken := byPhone[p.dob+"|"+p.phone]; !taken {
					byPhone[p.dob+"|"+p.phone] = m
				}
				if _, taken := byEmail[p.dob+"|"+email]; email != "" && !taken {
					byEmail[p.dob+"|"+email] = m
				}
			}
			if _, err := update.ExecContext(ctx, m.id, p.id); err != nil {
				return fmt.Errorf("backfill patients: %w", err)
			}
		}
		order += len(list)
	}
}
