package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
		if _, err := checkRefs(tx, sl.ProviderID, sl.LocationID, sl.ConsultationTypeID, true); err != nil {
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

// checkRefs checks that the provider, location and consultation type
// exist and are active, and returns the location. With lock, it first locks
// the provider's row for the rest of tx (SELECT ... FOR UPDATE; SQLite's
// transaction already holds the write lock), which serialises slot writes per
// provider. It returns a *booking.ValidationError naming each field whose
// entity is unknown or inactive.
func checkRefs(tx *gorm.DB, providerID, locationID, typeID uuid.UUID, lock bool) (booking.Location, error) {
	var p booking.Problems
	q := tx
	if lock {
		q = tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	prov, err := takeByID[providerRow](q, "provider", providerID)
	switch {
	case errors.Is(err, booking.ErrNotFound):
		p.Add("provider_id", booking.FieldNotFound, "is not a known provider")
	case err != nil:
		return booking.Location{}, err
	case !prov.Active:
		p.Add("provider_id", booking.FieldInactive, "is not an active provider")
	}
	locRow, err := takeByID[locationRow](tx, "location", locationID)
	switch {
	case errors.Is(err, booking.ErrNotFound):
		p.Add("location_id", booking.FieldNotFound, "is not a known location")
	case err != nil:
		return booking.Location{}, err
	case !locRow.Active:
		p.Add("location_id", booking.FieldInactive, "is not an active location")
	}
	ct, err := takeByID[consultationTypeRow](tx, "consultation type", typeID)
	switch {
	case errors.Is(err, booking.ErrNotFound):
		p.Add("consultation_type_id", booking.FieldNotFound, "is not a known consultation type")
	case err != nil:
		return booking.Location{}, err
	case !ct.Active:
		p.Add("consultation_type_id", booking.FieldInactive, "is not an active consultation type")
	}
	if err := p.Err(); err != nil {
		return booking.Location{}, err
	}
	return locRow.toDomain()
}

// Slot returns one slot with its booked count; booking.ErrNotFound when
// unknown.
func (s *Store) Slot(ctx context.Context, id uuid.UUID) (booking.Slot, error) {
	sl, err := slotWhere(s.db.WithContext(ctx), id)
	if err != nil {
		return booking.Slot{}, err
	}
	out := []booking.Slot{sl}
	if err := s.countLiveHolds(ctx, out); err != nil {
		return booking.Slot{}, err
	}
	return out[0], nil
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

// SlotFilter selects slots for ListSlots; zero fields select everything.
type SlotFilter struct {
	ProviderID, LocationID, ConsultationTypeID *uuid.UUID
	Status                                     booking.SlotStatus

	// FromDate and ToDate bound the start to calendar days, inclusive, read
	// in the time zone of each slot's location.
	FromDate, ToDate booking.Date
	// StartFrom (inclusive) and StartBefore (exclusive) bound the start to
	// instants.
	StartFrom, StartBefore time.Time
}

// ListSlots pages through the slots that f selects, open and blocked, by
// start, then id. It returns a *booking.ValidationError naming "cursor" for
// a cursor it did not make.
func (s *Store) ListSlots(ctx context.Context, f SlotFilter, cur string, limit int) ([]booking.Slot, string, error) {
	limit = clampLimit(limit)
	c, ok, err := decodeCursor(listSlots, cur)
	if err != nil {
		return nil, "", err
	}
	db := s.db.WithContext(ctx)
	q := db.Order("start_at, id").Limit(limit + 1)
	if ok {
		start, err := parseIntKey(c.key)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("start_at > ? OR (start_at = ? AND id > ?)", start, start, c.id)
	}
	for _, by := range []struct {
		col string
		id  *uuid.UUID
	}{{"provider_id", f.ProviderID}, {"location_id", f.LocationID}, {"consultation_type_id", f.ConsultationTypeID}} {
		if by.id != nil {
			q = q.Where(by.col+" = ?", by.id.String())
		}
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if !f.StartFrom.IsZero() {
		q = q.Where("start_at >= ?", ceilUnix(f.StartFrom))
	}
	if !f.StartBefore.IsZero() {
		q = q.Where("start_at < ?", ceilUnix(f.StartBefore))
	}
	if !f.FromDate.IsZero() || !f.ToDate.IsZero() {
		cond, args, err := s.localDayBounds(db, f)
		if err != nil {
			return nil, "", fmt.Errorf("list slots: %w", err)
		}
		q = q.Where(cond, args...)
	}
	var rows []slotRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list slots: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = cursor{list: listSlots, key: strconv.FormatInt(last.StartAt, 10), id: last.ID}.encode()
	}
	out, err := mapRows(rows, slotRow.toDomain)
	if err != nil {
		return nil, "", err
	}
	if err := s.countLiveHolds(ctx, out); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// localDayBounds turns f's calendar days into exact start_at bounds per
// location: one (location_id = ? AND start_at >= ? AND start_at < ?) term
// for each location, since each has its own time zone. A clinic has a
// handful of locations, so the condition stays small.
func (s *Store) localDayBounds(db *gorm.DB, f SlotFilter) (string, []any, error) {
	var locs []locationRow
	q := db.Select("id", "timezone")
	if f.LocationID != nil {
		q = q.Where("id = ?", f.LocationID.String())
	}
	if err := q.Find(&locs).Error; err != nil {
		return "", nil, err
	}
	if len(locs) == 0 {
		return "1 = 0", nil, nil
	}
	var terms []string
	var args []any
	for _, l := range locs {
		tz, err := loadZone(l.Timezone)
		if err != nil {
			return "", nil, err
		}
		term := "(location_id = ?"
		args = append(args, l.ID)
		if !f.FromDate.IsZero() {
			term += " AND start_at >= ?"
			args = append(args, f.FromDate.StartIn(tz).Unix())
		}
		if !f.ToDate.IsZero() {
			term += " AND start_at < ?"
			args = append(args, f.ToDate.AddDays(1).StartIn(tz).Unix())
		}
		terms = append(terms, term+")")
	}
	return "(" + strings.Join(terms, " OR ") + ")", args, nil
}

// SlotPatch is a change to a slot; nil fields stay as they are.
type SlotPatch struct {
	Status   *booking.SlotStatus
	Capacity *int
}

// UpdateSlot applies p to the slot and returns the slot as it is then:
// booking.ErrNotFound when unknown, and booking.ErrSlotInUse when the new
// capacity is below the places already booked. The capacity check is part
// of the UPDATE statement (WHERE booked <= new capacity), so a booking
// taken meanwhile cannot slip under it; the table's CHECK holds it too.
func (s *Store) UpdateSlot(ctx context.Context, id uuid.UUID, p SlotPatch) (booking.Slot, error) {
	var out booking.Slot
	err := s.tx(ctx, func(tx *gorm.DB) error {
		sets := map[string]any{"updated_at": utc(s.now())}
		q := tx.Model(&slotRow{}).Where("id = ?", id.String())
		if p.Status != nil {
			sets["status"] = string(*p.Status)
		}
		if p.Capacity != nil {
			sets["capacity"] = *p.Capacity
			q = q.Where("booked <= ?", *p.Capacity)
		}
		res := q.Updates(sets)
		if isCheckViolation(res.Error) {
			// The WHERE clause should have kept this from happening; the
			// table's CHECK is the last line.
			return booking.ErrSlotInUse
		}
		if res.Error != nil {
			return res.Error
		}
		sl, err := slotWhere(tx, id)
		if err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return booking.Errorf(booking.CodeSlotInUse,
				"the slot has %d occupying bookings; its capacity cannot go below %d", sl.Booked, sl.Booked)
		}
		out = sl
		return nil
	})
	if err != nil {
		return booking.Slot{}, fmt.Errorf("update slot: %w", err)
	}
	res := []booking.Slot{out}
	if err := s.countLiveHolds(ctx, res); err != nil {
		return booking.Slot{}, err
	}
	return res[0], nil
}

// DeleteSlot deletes a slot that no booking refers to: booking.ErrNotFound
// when unknown, booking.ErrSlotInUse when bookings occupy it, or when
// released bookings (cancelled, declined, expired) still refer to it and
// keep its history. The conditions are part of the DELETE statement, so a
// booking made meanwhile cannot be orphaned.
func (s *Store) DeleteSlot(ctx context.Context, id uuid.UUID) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM slots WHERE id = ? AND booked = 0 "+
			"AND NOT EXISTS (SELECT 1 FROM bookings WHERE bookings.slot_id = slots.id)", id.String())
		if res.Error != nil {
			if errors.Is(res.Error, gorm.ErrForeignKeyViolated) || strings.Contains(res.Error.Error(), "FOREIGN KEY constraint failed") {
				return booking.ErrSlotInUse
			}
			return res.Error
		}
		if res.RowsAffected == 1 {
			return nil
		}
		sl, err := slotWhere(tx, id)
		if err != nil {
			return err
		}
		if sl.Booked > 0 {
			return booking.Errorf(booking.CodeSlotInUse,
				"the slot has %d occupying bookings and cannot be deleted; block it instead", sl.Booked)
		}
		return booking.Errorf(booking.CodeSlotInUse,
			"bookings that were cancelled, declined or expired still refer to the slot; block it instead")
	})
	if err != nil {
		return fmt.Errorf("delete slot: %w", err)
	}
	return nil
}
