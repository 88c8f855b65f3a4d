package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// visitRow is one patient's visits: how many, and the latest one's start
// (Unix seconds) and time zone.
type visitRow struct {
	PatientID   string
	N           int
	SlotStartAt int64
	Timezone    string
}

// PatientVisits returns the earlier visits (booking.Visits) of each of the
// records ids, in one query over bookings_patient whatever the number of
// records: a page of matches costs one read, not one per record. A record
// with no visit is left out of the map.
func (s *Store) PatientVisits(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]booking.Visits, error) {
	return s.patientVisits(s.db.WithContext(ctx), ids)
}

// patientVisits is PatientVisits on db (a patient search asks it on the
// search pool).
func (s *Store) patientVisits(db *gorm.DB, ids []uuid.UUID) (map[uuid.UUID]booking.Visits, error) {
	out := make(map[uuid.UUID]booking.Visits, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := idStrings(ids)
	// Counted per record through bookings_patient; the latest visit's time
	// zone is one more step down the same index. On SQLite a unary + keeps
	// the planner off bookings_status_created, which it would otherwise
	// walk (no statistics), testing every checked-in or completed booking
	// of the clinic against the page's records.
	plus := ""
	if s.dialect == SQLite {
		plus = "+"
	}
	visit := strs(booking.VisitStatuses)
	// Scanned with database/sql, not GORM's reflection: every patient
	// search asks it for its page.
	inKeys, keysArg := s.inList("patient_id", keys)
	res, err := db.Raw(`SELECT v.patient_id, v.n, v.slot_start_at,
			(SELECT b.timezone FROM bookings b WHERE b.patient_id = v.patient_id AND b.slot_start_at = v.slot_start_at AND `+plus+`b.status IN ? LIMIT 1) AS timezone
		FROM (SELECT patient_id, COUNT(*) AS n, MAX(slot_start_at) AS slot_start_at FROM bookings
			WHERE `+inKeys+` AND `+plus+`status IN ? GROUP BY patient_id) v`,
		visit, keysArg, visit).Rows()
	if err != nil {
		return nil, fmt.Errorf("patient visits: %w", err)
	}
	defer res.Close()
	var rows []visitRow
	for res.Next() {
		var (
			r  visitRow
			tz sql.NullString
		)
		if err := res.Scan(&r.PatientID, &r.N, &r.SlotStartAt, &tz); err != nil {
			return nil, fmt.Errorf("patient visits: %w", err)
		}
		r.Timezone = tz.String
		rows = append(rows, r)
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("patient visits: %w", err)
	}
	return out, visitsOf(out, rows)
}

// visitsOf adds rows to out as each record's booking.Visits.
func visitsOf(out map[uuid.UUID]booking.Visits, rows []visitRow) error {
	for _, r := range rows {
		id, err := uuid.Parse(r.PatientID)
		if err != nil {
			return fmt.Errorf("patient visits: patient id %q: %w", r.PatientID, err)
		}
		loc, err := loadZone(r.Timezone) // cached: a page shares a zone or two
		if err != nil {
			return fmt.Errorf("patient visits: %w", err)
		}
		day := booking.DateOf(time.Unix(r.SlotStartAt, 0), loc)
		out[id] = booking.Visits{Count: r.N, LastOn: &day}
	}
	return nil
}

// readPatientsVisits is readPatients of the records whose ids the subquery
// ids selects, with each one's visits as PatientVisits counts them, in one
// statement (PostgreSQL only: a lateral join): a patient search's page and
// its visits in one round trip and one plan.
func readPatientsVisits(db *gorm.DB, ids *gorm.DB) ([]patientRow, map[uuid.UUID]booking.Visits, error) {
	visit := strs(booking.VisitStatuses)
	res, err := db.Raw(`SELECT `+pagePatientColumns+`, v.n, v.slot_start_at,
			(SELECT b.timezone FROM bookings b WHERE b.patient_id = patients.id AND b.slot_start_at = v.slot_start_at AND b.status IN ? LIMIT 1)
		FROM patients LEFT JOIN LATERAL (SELECT COUNT(*) AS n, MAX(slot_start_at) AS slot_start_at FROM bookings
			WHERE patient_id = patients.id AND status IN ?) v ON true
		WHERE id IN (?)`, visit, visit, ids).Rows()
	if err != nil {
		return nil, nil, fmt.Errorf("read patients: %w", err)
	}
	defer res.Close()
	var (
		rows   []patientRow
		visits []visitRow
	)
	for res.Next() {
		var (
			r     patientRow
			n     int
			start sql.NullInt64
			tz    sql.NullString
		)
		if err := res.Scan(append(r.dest(), &n, &start, &tz)...); err != nil {
			return nil, nil, fmt.Errorf("read patients: %w", err)
		}
		rows = append(rows, r)
		if n > 0 {
			visits = append(visits, visitRow{PatientID: r.ID, N: n, SlotStartAt: start.Int64, Timezone: tz.String})
		}
	}
	if err := res.Err(); err != nil {
		return nil, nil, fmt.Errorf("read patients: %w", err)
	}
	sortPatients(rows)
	out := make(map[uuid.UUID]booking.Visits, len(visits))
	return rows, out, visitsOf(out, visits)
}
