package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// visitRow is one patient's visits: how many, and the latest one's start
// (Unix seconds) and time zone.
type visitRow struct {
	PatientID   string `gorm:"column:patient_id"`
	N           int    `gorm:"column:n"`
	SlotStartAt int64  `gorm:"column:slot_start_at"`
	Timezone    string `gorm:"column:timezone"`
}

// PatientVisits returns the earlier visits (booking.Visits) of each of the
// records ids, in one query over bookings_patient whatever the number of
// records: a page of matches costs one read, not one per record. A record
// with no visit is left out of the map.
func (s *Store) PatientVisits(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]booking.Visits, error) {
	out := make(map[uuid.UUID]booking.Visits, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = id.String()
	}
	// Each record's visits counted and its latest picked in the same pass:
	// the window functions read every visit once (both databases have them).
	var rows []visitRow
	err := s.db.WithContext(ctx).Raw(`SELECT patient_id, n, slot_start_at, timezone FROM (
		SELECT patient_id, slot_start_at, timezone,
			COUNT(*) OVER (PARTITION BY patient_id) AS n,
			ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY slot_start_at DESC, id DESC) AS latest
		FROM bookings WHERE patient_id IN ? AND status IN ?) v WHERE latest = 1`,
		keys, strs(booking.VisitStatuses)).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("patient visits: %w", err)
	}
	for _, r := range rows {
		id, err := uuid.Parse(r.PatientID)
		if err != nil {
			return nil, fmt.Errorf("patient visits: patient id %q: %w", r.PatientID, err)
		}
		loc, err := time.LoadLocation(r.Timezone)
		if err != nil {
			return nil, fmt.Errorf("patient visits: time zone %q: %w", r.Timezone, err)
		}
		day := booking.DateOf(time.Unix(r.SlotStartAt, 0), loc)
		out[id] = booking.Visits{Count: r.N, LastOn: &day}
	}
	return out, nil
}
