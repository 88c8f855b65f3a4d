package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// BookingSummary is what a list of messages shows of the booking each one
// is about: enough for the front desk to see whose it is and when, and to
// open the patient's record. No contact details, no intake.
type BookingSummary struct {
	ID        uuid.UUID
	Reference string
	Status    booking.Status
	PatientID uuid.UUID // uuid.Nil for a booking made before patient records
	FirstName string
	LastName  string
	StartAt   time.Time
	Timezone  string
}

type summaryRow struct {
	ID          string  `gorm:"column:id"`
	Reference   string  `gorm:"column:reference"`
	Status      string  `gorm:"column:status"`
	PatientID   *string `gorm:"column:patient_id"`
	FirstName   string  `gorm:"column:patient_first_name"`
	LastName    string  `gorm:"column:patient_last_name"`
	SlotStartAt int64   `gorm:"column:slot_start_at"`
	Timezone    string  `gorm:"column:timezone"`
}

// BookingSummaries returns the summaries of the bookings ids, in one query
// by primary key whatever their number (a page of messages costs one read,
// not one per booking); the columns are the booking's own copies of its
// slot's start and zone, so no slot is read. An unknown id is left out of
// the map.
func (s *Store) BookingSummaries(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]BookingSummary, error) {
	out := make(map[uuid.UUID]BookingSummary, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := idStrings(ids)
	var rows []summaryRow
	inKeys, keysArg := s.inList("id", keys)
	err := s.db.WithContext(ctx).Raw(`SELECT id, reference, status, patient_id, patient_first_name, patient_last_name, slot_start_at, timezone
		FROM bookings WHERE `+inKeys, keysArg).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("booking summaries: %w", err)
	}
	for _, r := range rows {
		id, err := uuid.Parse(r.ID)
		if err != nil {
			return nil, fmt.Errorf("booking summaries: booking id %q: %w", r.ID, err)
		}
		var patient uuid.UUID
		if r.PatientID != nil {
			if patient, err = uuid.Parse(*r.PatientID); err != nil {
				return nil, fmt.Errorf("booking summaries: booking %s: patient id %q: %w", id, *r.PatientID, err)
			}
		}
		out[id] = BookingSummary{ID: id, Reference: r.Reference, Status: booking.Status(r.Status), PatientID: patient,
			FirstName: r.FirstName, LastName: r.LastName, StartAt: time.Unix(r.SlotStartAt, 0).UTC(), Timezone: r.Timezone}
	}
	return out, nil
}
