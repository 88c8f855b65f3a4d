package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// zones caches loaded time zones by IANA name: time.LoadLocation reads and
// parses the zone file on every call.
var zones sync.Map // string -> *time.Location

// loadZone returns the named IANA zone (see booking.ParseTimezone).
func loadZone(name string) (*time.Location, error) {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location), nil
	}
	z, err := booking.ParseTimezone(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	zones.Store(name, z)
	return z, nil
}

// AvailabilityQuery asks for the slots the public may book, or, in the
// staff window, those the desk is offered (booking.Policy.Offers).
type AvailabilityQuery struct {
	Days                                       booking.DateRange   // local days of each slot's location
	ProviderID, LocationID, ConsultationTypeID *uuid.UUID          // optional filters
	Policy                                     booking.Policy      // the booking window
	Window                                     booking.OfferWindow // whose; "" is the public's
	Now                                        time.Time
}

// availableRow is one row of the availability query: a slot with its
// location's time zone.
type availableRow struct {
	ID                 string
	ProviderID         string
	LocationID         string
	ConsultationTypeID string
	StartAt            int64
	EndAt              int64
	Capacity           int
	Booked             int
	Timezone           string
	Held               int
}

// scanAvailable reads one row of an availability query (the columns of
// availableRow, in order) as an open slot with its live holds, and the
// zone of its location.
func scanAvailable(rows *sql.Rows) (booking.Slot, string, error) {
	var r availableRow
	if err := rows.Scan(&r.ID, &r.ProviderID, &r.LocationID, &r.ConsultationTypeID,
		&r.StartAt, &r.EndAt, &r.Capacity, &r.Booked, &r.Timezone, &r.Held); err != nil {
		return booking.Slot{}, "", err
	}
	sl, err := slotRow{
		ID: r.ID, ProviderID: r.ProviderID, LocationID: r.LocationID, ConsultationTypeID: r.ConsultationTypeID,
		StartAt: r.StartAt, EndAt: r.EndAt, Capacity: r.Capacity, Booked: r.Booked, Status: string(booking.SlotOpen),
	}.toDomain()
	if err != nil {
		return booking.Slot{}, "", err
	}
	sl.Held = r.Held
	return sl, r.Timezone, nil
}

// Availability returns the slots the public may book whose start falls on
// one of q.Days in their location's time zone, grouped by local day (see
// booking.GroupByLocalDay): open, with a place left (live slot holds take
// places), starting within the
// policy's booking window, of an active provider, location and consultation
// type. In the staff window the time test is Policy.StaffOffered's instead
// (not ended yet): the catalogue must still be active.
//
// It runs exactly one SQL statement whatever the range: slots joined with
// their provider, location and type, bounded by the range's UTC window
// (DateRange.Window) and the booking window. The slots_start (start_at)
// index serves the range scan and the catalogue tables are joined by
// primary key; a partial covering index on open slots measured no better
// on SQLite, so the schema has none. The exact local-day test and the
// grouping happen in Go.
func (s *Store) Availability(ctx context.Context, q AvailabilityQuery) ([]booking.Day, error) {
	lo, hi := q.Days.Window()
	earliest, latest := q.Policy.OfferedStarts(q.Window, q.Now)
	if earliest.After(lo) {
		lo = earliest
	}
	sql := `SELECT s.id, s.provider_id, s.location_id, s.consultation_type_id, s.start_at, s.end_at,
       s.capacity, s.booked, l.timezone,
       (SELECT COUNT(*) FROM slot_holds h WHERE h.slot_id = s.id AND h.expires_at > ?) AS held
FROM slots s
JOIN providers p ON p.id = s.provider_id
JOIN locations l ON l.id = s.location_id
JOIN consultation_types c ON c.id = s.consultation_type_id
WHERE s.status = 'open' AND s.booked < s.capacity
  AND s.start_at >= ? AND s.start_at < ?
  AND p.active = ? AND l.active = ? AND c.active = ?`
	args := []any{q.Now.Unix(), ceilUnix(lo), ceilUnix(hi), true, true, true}
	if !latest.IsZero() {
		sql += "\n  AND s.start_at <= ?"
		args = append(args, latest.Unix())
	}
	for _, by := range []struct {
		col string
		id  *uuid.UUID
	}{{"s.provider_id", q.ProviderID}, {"s.location_id", q.LocationID}, {"s.consultation_type_id", q.ConsultationTypeID}} {
		if by.id != nil {
			sql += "\n  AND " + by.col + " = ?"
			args = append(args, by.id.String())
		}
	}
	qctx := ctx
	if s.dialect == SQLite {
		// go-sqlite3 steps every row on a goroutine of its own when the
		// context can be cancelled, which costs more than the query on a
		// two-month range. The range is capped, so the query is short and
		// runs without the request's cancellation.
		qctx = context.WithoutCancel(ctx)
	}
	// Scanned by hand: GORM's reflection-based Scan costs more than the
	// query itself on a two-month range.
	rows, err := s.db.WithContext(qctx).Raw(sql, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("availability: %w", err)
	}
	defer rows.Close()
	type zone struct {
		loc        *time.Location
		name       string
		start, end time.Time // q.Days in the zone
	}
	zoneOf := map[uuid.UUID]zone{}
	var slots []booking.Slot
	for rows.Next() {
		sl, tz, err := scanAvailable(rows)
		if err != nil {
			return nil, fmt.Errorf("availability: %w", err)
		}
		z, ok := zoneOf[sl.LocationID]
		if !ok {
			loc, err := loadZone(tz)
			if err != nil {
				return nil, fmt.Errorf("availability: location %s: %w", sl.LocationID, err)
			}
			z = zone{loc: loc, name: tz}
			z.start, z.end = q.Days.Instants(loc)
			zoneOf[sl.LocationID] = z
		}
		if sl.StartAt.Before(z.start) || !sl.StartAt.Before(z.end) || !q.Policy.Offers(q.Window, sl, q.Now) {
			continue
		}
		slots = append(slots, sl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("availability: %w", err)
	}
	return booking.GroupByLocalDay(slots, func(id uuid.UUID) (*time.Location, string) {
		z := zoneOf[id]
		return z.loc, z.name
	}), nil
}

// ceilUnix returns t in Unix seconds, rounded up, so that start_at >= the
// result holds exactly for the whole-second starts at or after t.
func ceilUnix(t time.Time) int64 {
	u := t.Unix()
	if t.Nanosecond() > 0 {
		u++
	}
	return u
}

// LocationZones returns the time zone of every location, by id.
func (s *Store) LocationZones(ctx context.Context) (map[uuid.UUID]*time.Location, error) {
	type zoneRow struct {
		ID       string
		Timezone string
	}
	var rows []zoneRow
	if err := s.db.WithContext(ctx).Table("locations").Select("id, timezone").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("location zones: %w", err)
	}
	out := make(map[uuid.UUID]*time.Location, len(rows))
	for _, r := range rows {
		id, err := uuid.Parse(r.ID)
		if err != nil {
			return nil, fmt.Errorf("location zones: %w", err)
		}
		if out[id], err = loadZone(r.Timezone); err != nil {
			return nil, err
		}
	}
	return out, nil
}
