package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/clinic/consult/internal/booking"
)

// slotRow is a row of slots. StartAt and EndAt are Unix seconds.
type slotRow struct {
	ID                 string `gorm:"primaryKey"`
	ProviderID         string
	LocationID         string
	ConsultationTypeID string
	ScheduleID         *string
	StartAt            int64
	EndAt              int64
	Capacity           int
	Booked             int
	Status             string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

func (slotRow) TableName() string { return "slots" }

// slotToRow maps a new slot to its row: status open when unset, nothing
// booked yet (bookings maintain Booked in their own transactions).
func slotToRow(sl booking.Slot) slotRow {
	status := sl.Status
	if status == "" {
		status = booking.SlotOpen
	}
	return slotRow{
		ID: sl.ID.String(), ProviderID: sl.ProviderID.String(), LocationID: sl.LocationID.String(),
		ConsultationTypeID: sl.ConsultationTypeID.String(), ScheduleID: uuidPtrString(sl.ScheduleID),
		StartAt: sl.StartAt.Unix(), EndAt: sl.EndAt.Unix(), Capacity: sl.Capacity, Booked: 0,
		Status: string(status), CreatedAt: utc(sl.CreatedAt), UpdatedAt: utc(sl.CreatedAt),
	}
}

func (r slotRow) toDomain() (booking.Slot, error) {
	var ids [4]uuid.UUID
	for i, v := range []string{r.ID, r.ProviderID, r.LocationID, r.ConsultationTypeID} {
		id, err := uuid.Parse(v)
		if err != nil {
			return booking.Slot{}, fmt.Errorf("slot row %q: %w", r.ID, err)
		}
		ids[i] = id
	}
	return booking.Slot{
		ID: ids[0], ProviderID: ids[1], LocationID: ids[2], ConsultationTypeID: ids[3],
		ScheduleID: parseUUIDPtr(r.ScheduleID),
		StartAt:    time.Unix(r.StartAt, 0).UTC(), EndAt: time.Unix(r.EndAt, 0).UTC(),
		Capacity: r.Capacity, Booked: r.Booked, Status: booking.SlotStatus(r.Status),
		CreatedAt: r.CreatedAt.UTC(),
	}, nil
}

// CreateSlot inserts sl, which the caller has checked with
// booking.ValidateNewSlot and given an ID and CreatedAt. Start and end are
// kept to the second. It returns booking.ErrSlotOverlap when the provider
// already has a slot sharing any time with it, and a *booking.ValidationError
// naming provider_id, location_id or consultation_type_id when one of them is
// unknown or inactive.
//
// The overlap check cannot race with another create: the transaction first
// locks the provider's row (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the
// transaction holds the database's write lock from BEGIN), so creates for one
// provider run one after the other.
func (s *Store) CreateSlot(ctx context.Context, sl booking.Slot) error {
	row := slotToRow(sl)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := lockSlotRefs(tx, sl.ProviderID, sl.LocationID, sl.ConsultationTypeID); err != nil {
			return err
		}
		var n int64
		err := tx.Model(&slotRow{}).
			Where("provider_id = ? AND start_at < ? AND end_at > ?", row.ProviderID, row.EndAt, row.StartAt).
			Limit(1).Count(&n).Error
		if err != nil {
			return err
		}
		if n > 0 {
			return booking.ErrSlotOverlap
		}
		if err := tx.Create(&row).Error; err != nil {
			if isUniqueViolation(err) {
				return booking.ErrSlotOverlap
			}
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create slot: %w", err)
	}
	return nil
}

// lockSlotRefs locks the provider's row for the rest of tx, serialising
// slot writes per provider, and checks that the provider, location and
// consultation type exist and are active. It returns a
// *booking.ValidationError naming each field that does not.
func lockSlotRefs(tx *gorm.DB, providerID, locationID, typeID uuid.UUID) error {
	var p booking.Problems
	prov, err := takeByID[providerRow](tx.Clauses(clause.Locking{Strength: "UPDATE"}), "provider", providerID)
	switch {
	case errors.Is(err, booking.ErrNotFound):
		p.Add("provider_id", "is not a known provider")
	case err != nil:
		return err
	case !prov.Active:
		p.Add("provider_id", "is not an active provider")
	}
	loc, err := takeByID[locationRow](tx, "location", locationID)
	switch {
	case errors.Is(err, booking.ErrNotFound):
		p.Add("location_id", "is not a known location")
	case err != nil:
		return err
	case !loc.Active:
		p.Add("location_id", "is not an active location")
	}
	ct, err := takeByID[consultationTypeRow](tx, "consultation type", typeID)
	switch {
	case errors.Is(err, booking.ErrNotFound):
		p.Add("consultation_type_id", "is not a known consultation type")
	case err != nil:
		return err
	case !ct.Active:
		p.Add("consultation_type_id", "is not an active consultation type")
	}
	return p.Err()
}

// Slot returns one slot with its booked count; booking.ErrNotFound when
// unknown.
func (s *Store) Slot(ctx context.Context, id uuid.UUID) (booking.Slot, error) {
	return slotWhere(s.db.WithContext(ctx), id)
}

func slotWhere(db *gorm.DB, id uuid.UUID) (booking.Slot, error) {
	var row slotRow
	if err := db.Where("id = ?", id.String()).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return booking.Slot{}, fmt.Errorf("slot: %w", booking.ErrNotFound)
		}
		return booking.Slot{}, fmt.Errorf("slot: %w", err)
	}
	return row.toDomain()
}
