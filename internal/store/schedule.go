package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/clinic/consult/internal/booking"
)

// scheduleRow is a row of schedules. Windows is a JSON array of
// windowJSON; ValidFrom and ValidTo are YYYY-MM-DD.
type scheduleRow struct {
	ID                 string `gorm:"primaryKey"`
	ProviderID         string
	LocationID         string
	ConsultationTypeID string
	SlotMinutes        int
	Capacity           int
	ValidFrom          string
	ValidTo            *string
	Windows            string
	Active             bool
	GeneratedThrough   *string // YYYY-MM-DD; see KeepSchedulesAhead
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

func (scheduleRow) TableName() string { return "schedules" }

// windowJSON is how a window is stored: as the API spells it.
type windowJSON struct {
	Weekday string        `json:"weekday"`
	Start   booking.Clock `json:"start"`
	End     booking.Clock `json:"end"`
}

func scheduleToRow(sc booking.Schedule, updated time.Time) (scheduleRow, error) {
	ws := make([]windowJSON, len(sc.Windows))
	for i, w := range sc.Windows {
		ws[i] = windowJSON{Weekday: booking.WeekdayName(w.Weekday), Start: w.Start, End: w.End}
	}
	b, err := json.Marshal(ws)
	if err != nil {
		return scheduleRow{}, fmt.Errorf("encode windows: %w", err)
	}
	return scheduleRow{
		ID: sc.ID.String(), ProviderID: sc.ProviderID.String(), LocationID: sc.LocationID.String(),
		ConsultationTypeID: sc.ConsultationTypeID.String(), SlotMinutes: sc.SlotMinutes, Capacity: sc.Capacity,
		ValidFrom: sc.ValidFrom.String(), ValidTo: dateString(sc.ValidTo), Windows: string(b), Active: sc.Active,
		GeneratedThrough: dateString(sc.GeneratedThrough), CreatedAt: utc(sc.CreatedAt), UpdatedAt: utc(updated),
	}, nil
}

// dateString returns d as YYYY-MM-DD, or nil when d is nil.
func dateString(d *booking.Date) *string {
	if d == nil {
		return nil
	}
	v := d.String()
	return &v
}

// parseDatePtr parses a YYYY-MM-DD column that may be null.
func parseDatePtr(v *string) (*booking.Date, error) {
	if v == nil {
		return nil, nil
	}
	d, err := booking.ParseDate(*v)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func (r scheduleRow) toDomain() (booking.Schedule, error) {
	fail := func(err error) (booking.Schedule, error) {
		return booking.Schedule{}, fmt.Errorf("schedule row %q: %w", r.ID, err)
	}
	var ids [4]uuid.UUID
	for i, v := range []string{r.ID, r.ProviderID, r.LocationID, r.ConsultationTypeID} {
		id, err := uuid.Parse(v)
		if err != nil {
			return fail(err)
		}
		ids[i] = id
	}
	from, err := booking.ParseDate(r.ValidFrom)
	if err != nil {
		return fail(err)
	}
	to, err := parseDatePtr(r.ValidTo)
	if err != nil {
		return fail(err)
	}
	through, err := parseDatePtr(r.GeneratedThrough)
	if err != nil {
		return fail(err)
	}
	var ws []windowJSON
	if err := json.Unmarshal([]byte(r.Windows), &ws); err != nil {
		return fail(err)
	}
	windows := make([]booking.Window, len(ws))
	for i, w := range ws {
		d, err := booking.ParseWeekday(w.Weekday)
		if err != nil {
			return fail(err)
		}
		windows[i] = booking.Window{Weekday: d, Start: w.Start, End: w.End}
	}
	return booking.Schedule{
		ID: ids[0], ProviderID: ids[1], LocationID: ids[2], ConsultationTypeID: ids[3],
		SlotMinutes: r.SlotMinutes, Capacity: r.Capacity, ValidFrom: from, ValidTo: to,
		Windows: windows, Active: r.Active, GeneratedThrough: through, CreatedAt: r.CreatedAt.UTC(),
	}, nil
}

// CreateSchedule inserts sc, which the caller has checked with Validate and
// given an ID and CreatedAt. It makes no slots (CreateScheduleAhead does);
// the rolling generation (KeepSchedulesAhead) makes them later. It returns a *booking.ValidationError naming
// provider_id, location_id or consultation_type_id when one of them is
// unknown or inactive.
func (s *Store) CreateSchedule(ctx context.Context, sc booking.Schedule) error {
	row, err := scheduleToRow(sc, sc.CreatedAt)
	if err != nil {
		return fmt.Errorf("create schedule: %w", err)
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := checkRefs(tx, sc.ProviderID, sc.LocationID, sc.ConsultationTypeID, false); err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return fmt.Errorf("create schedule: %w", err)
	}
	return nil
}

// Schedule returns one schedule; booking.ErrNotFound when unknown.
func (s *Store) Schedule(ctx context.Context, id uuid.UUID) (booking.Schedule, error) {
	return scheduleWhere(s.db.WithContext(ctx), id)
}

func scheduleWhere(db *gorm.DB, id uuid.UUID) (booking.Schedule, error) {
	var row scheduleRow
	if err := db.Where("id = ?", id.String()).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return booking.Schedule{}, fmt.Errorf("schedule: %w", booking.ErrNotFound)
		}
		return booking.Schedule{}, fmt.Errorf("schedule: %w", err)
	}
	return row.toDomain()
}

// ListSchedules pages through schedules, active and inactive, by creation
// time.
func (s *Store) ListSchedules(ctx context.Context, cur string, limit int) ([]booking.Schedule, string, error) {
	rows, next, err := pageByTime(s.db.WithContext(ctx), listSchedules, cur, limit, "created_at", false,
		func(r scheduleRow) (time.Time, string) { return r.CreatedAt, r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list schedules: %w", err)
	}
	out, err := mapRows(rows, scheduleRow.toDomain)
	return out, next, err
}

// UpdateSchedule applies fn to the schedule in one transaction, with its row
// locked, and saves the result; booking.ErrNotFound when unknown. fn checks
// the change (Validate) and returns its error to abort. The schedule's
// provider, location and consultation type cannot change. Slots generated
// before are left as they are.
func (s *Store) UpdateSchedule(ctx context.Context, id uuid.UUID, fn func(*booking.Schedule) error) (booking.Schedule, error) {
	var out booking.Schedule
	err := s.tx(ctx, func(tx *gorm.DB) error {
		cur, err := scheduleWhere(tx.Clauses(clause.Locking{Strength: "UPDATE"}), id)
		if err != nil {
			return err
		}
		sc := cur
		sc.Windows = slices.Clone(cur.Windows)
		if err := fn(&sc); err != nil {
			return err
		}
		sc.ID, sc.CreatedAt, sc.GeneratedThrough = cur.ID, cur.CreatedAt, cur.GeneratedThrough
		sc.ProviderID, sc.LocationID, sc.ConsultationTypeID = cur.ProviderID, cur.LocationID, cur.ConsultationTypeID
		row, err := scheduleToRow(sc, s.now())
		if err != nil {
			return err
		}
		if err := tx.Save(&row).Error; err != nil {
			return err
		}
		out = sc
		return nil
	})
	if err != nil {
		return booking.Schedule{}, fmt.Errorf("update schedule: %w", err)
	}
	return out, nil
}

// DeleteSchedule deletes the schedule; the slots it generated stay, their
// schedule_id set to null. booking.ErrNotFound when unknown.
func (s *Store) DeleteSchedule(ctx context.Context, id uuid.UUID) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// Explicitly, rather than through ON DELETE SET NULL alone, so that
		// it holds whatever the connection's foreign key settings.
		if err := tx.Model(&slotRow{}).Where("schedule_id = ?", id.String()).
			Updates(map[string]any{"schedule_id": nil, "updated_at": utc(s.now())}).Error; err != nil {
			return err
		}
		res := tx.Where("id = ?", id.String()).Delete(&scheduleRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return booking.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete schedule: %w", err)
	}
	return nil
}

// GenerateResult counts what one generation did.
type GenerateResult struct {
	Created int // slots inserted
	Skipped int // occurrences not inserted: already there, overlapping another slot, or starting before now
}

// errScheduleInactive answers a generate call on an inactive schedule.
var errScheduleInactive = booking.Errorf(booking.CodeConflict, "the schedule is inactive; activate it to generate slots")

// GenerateSlots creates the slots the schedule yields on the days from..to
// (inclusive, in its location's time zone; see booking.Schedule.Occurrences
// for the DST rules). An occurrence is skipped when it starts before now or
// overlaps any slot of the provider, so generating twice creates nothing the
// second time.
//
// It runs in one transaction holding the provider's lock (as CreateSlot
// does), reads the provider's slots in the range once and inserts the new
// ones in batches: a fixed handful of statements per call, whatever the
// number of days. It returns booking.ErrNotFound for an unknown schedule, a
// booking.ErrConflict error for an inactive one, a *booking.ValidationError
// naming "to" for a range over booking.MaxGenerateDays, and one naming
// provider_id, location_id or consultation_type_id when one of them has been
// deactivated.
func (s *Store) GenerateSlots(ctx context.Context, id uuid.UUID, from, to booking.Date, now time.Time) (GenerateResult, error) {
	var res GenerateResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		sc, err := scheduleWhere(tx, id)
		if err != nil {
			return err
		}
		if !sc.Active {
			return errScheduleInactive
		}
		loc, err := checkRefs(tx, sc.ProviderID, sc.LocationID, sc.ConsultationTypeID, true)
		if err != nil {
			return err
		}
		tz, err := loadZone(loc.Timezone)
		if err != nil {
			return err
		}
		res, err = generateTx(tx, sc, tz, from, to, now)
		return err
	})
	if err != nil {
		return GenerateResult{}, fmt.Errorf("generate slots: %w", err)
	}
	return res, nil
}

// generateTx inserts, in tx, the slots sc yields on the days from..to in
// tz that start at or after now and overlap no slot of the provider. The
// caller holds the provider's lock (checkRefs with lock), so the overlap
// check cannot race another slot write for the provider.
func generateTx(tx *gorm.DB, sc booking.Schedule, tz *time.Location, from, to booking.Date, now time.Time) (GenerateResult, error) {
	var res GenerateResult
	occ, err := sc.Occurrences(from, to, tz)
	if err != nil || len(occ) == 0 {
		return res, err
	}
	var existing []slotRow
	err = tx.Select("start_at", "end_at").
		Where("provider_id = ? AND start_at < ? AND end_at > ?",
			sc.ProviderID.String(), occ[len(occ)-1].End.Unix(), occ[0].Start.Unix()).
		Order("start_at").Find(&existing).Error
	if err != nil {
		return res, err
	}
	created := utc(now)
	scheduleID := sc.ID
	var rows []slotRow
	j := 0 // existing[:j] end before the current occurrence starts
	for _, o := range occ {
		start, end := o.Start.Unix(), o.End.Unix()
		for j < len(existing) && existing[j].EndAt <= start {
			j++
		}
		// Both lists are sorted by start and existing slots never
		// overlap one another, so only existing[j] can overlap o
		// unless it starts after o ends.
		if o.Start.Before(now) || (j < len(existing) && existing[j].StartAt < end) {
			res.Skipped++
			continue
		}
		rows = append(rows, slotToRow(booking.Slot{
			ID: uuid.New(), ProviderID: sc.ProviderID, LocationID: sc.LocationID,
			ConsultationTypeID: sc.ConsultationTypeID, ScheduleID: &scheduleID,
			StartAt: o.Start, EndAt: o.End, Capacity: sc.Capacity, Status: booking.SlotOpen, CreatedAt: created,
		}))
	}
	if len(rows) > 0 {
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return res, err
		}
	}
	res.Created = len(rows)
	return res, nil
}
