package store

import (
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// SlotPlaces is the state of one slot's places as Availability counts them,
// read after a commit that only took or freed places of it (a booking made,
// cancelled, declined, expired or moved; a hold placed or released).
type SlotPlaces struct {
	ID, ProviderID, LocationID, ConsultationTypeID uuid.UUID
	StartAt                                        time.Time
	// Day is the UTC day the slot starts on (start_at / 86400), the day of
	// the scope whose version the write would have moved.
	Day  int64
	Zone *time.Location // of the slot's location
	// Offered is whether Availability offers the slot, the booking window
	// aside: open, with a place left, of an active provider, location and
	// consultation type.
	Offered bool
	// Remaining is booking.Slot.Remaining: capacity less the booked places
	// and the live holds.
	Remaining int
	// HoldExpiry is when the earliest live hold on the slot stops counting
	// (its expires_at); zero when none lives. Until then the slot may
	// offer fewer places than it will with no write.
	HoldExpiry time.Time
}

// Includes reports whether Availability's answer to q, at q.Now, lists the
// slot p when it has a place left: its provider, location and consultation
// type match q's filters, it starts on one of q.Days in its location's
// zone, and within the booking window at q.Now.
func (q AvailabilityQuery) Includes(p SlotPlaces) bool {
	for _, f := range []struct {
		want *uuid.UUID
		got  uuid.UUID
	}{{q.ProviderID, p.ProviderID}, {q.LocationID, p.LocationID}, {q.ConsultationTypeID, p.ConsultationTypeID}} {
		if f.want != nil && *f.want != f.got {
			return false
		}
	}
	from, to := q.Days.Instants(p.Zone)
	if p.StartAt.Before(from) || !p.StartAt.Before(to) {
		return false
	}
	earliest, latest := q.Policy.BookableStarts(q.Now)
	return !p.StartAt.Before(earliest) && (latest.IsZero() || !p.StartAt.After(latest))
}

// OnPlaces hands fn, from then on, the writes that only take or free places
// of slots, instead of moving the AvailabilityVersion of their scope: fn
// receives the slots' places as read after the commit, and must patch what
// it derived from Availability with them (or drop it) before it returns.
// It is called for this process's writes before the writing call returns,
// and for other processes' writes when the store learns of them (see
// AvailabilityVersion), one call at a time, in the order the places were
// read, so that a later state is never overwritten by an earlier one.
// Should the places not be read, the versions of their scopes move instead.
// fn returns false when it is gone (its cache was let go): it is then
// forgotten, and once none is left the versions move again.
func (s *Store) OnPlaces(fn func([]SlotPlaces) bool) {
	v := s.avail
	v.placeMu.Lock()
	defer v.placeMu.Unlock()
	v.sinks = append(v.sinks, fn)
	v.now = s.now
	v.readPlaces = func(now time.Time, ids []string) ([]SlotPlaces, error) {
		return readSlotPlaces(now, func(q string, args ...any) (*sql.Rows, error) {
			return s.db.Raw(q, args...).Rows()
		}, ids)
	}
}

// placeScope is a scope naming one slot whose places alone changed:
// "provider/day/slot" (see migration 00096).
type placeScope struct {
	provider uuid.UUID
	day      int64
	slot     string
}

// parsePlaceScope parses a three-part scope; ok is false for any other.
func parsePlaceScope(scope string) (p placeScope, ok bool) {
	parts := strings.Split(scope, "/")
	if len(parts) != 3 {
		return p, false
	}
	var err error
	if p.provider, err = uuid.Parse(parts[0]); err != nil {
		return p, false
	}
	if p.day, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return p, false
	}
	if _, err := uuid.Parse(parts[2]); err != nil {
		return p, false
	}
	p.slot = parts[2]
	return p, true
}

// hasSinks reports whether place changes are handed to OnPlaces's functions.
func (v *availabilityVersion) hasSinks() bool {
	v.placeMu.Lock()
	defer v.placeMu.Unlock()
	return len(v.sinks) > 0
}

// places hands the places of the slots ps name, read with read, to the
// OnPlaces functions; without any, or should the read fail, it moves the
// versions of their scopes instead. One call at a time (placeMu): the
// places are read and handed on in the same order.
func (v *availabilityVersion) places(ps []placeScope, read placesReader) {
	if len(ps) == 0 {
		return
	}
	v.placeMu.Lock()
	defer v.placeMu.Unlock()
	invalidate := func(ps []placeScope) {
		for _, p := range ps {
			v.bumpProvider(p.provider, p.day, false)
		}
	}
	if len(v.sinks) == 0 || read == nil {
		invalidate(ps)
		return
	}
	ids := make([]string, 0, len(ps))
	seen := map[string]bool{}
	for _, p := range ps {
		if !seen[p.slot] {
			seen[p.slot] = true
			ids = append(ids, p.slot)
		}
	}
	got, err := read(v.now(), ids)
	if err != nil {
		v.log.Warn("availability places not read; their answers are dropped instead", "error", err.Error())
		invalidate(ps)
		return
	}
	byID := make(map[string]SlotPlaces, len(got))
	for _, sp := range got {
		byID[sp.ID.String()] = sp
	}
	for _, p := range ps {
		// Deleted since (its deletion moved its scope too) or moved to
		// another provider or day: not a place change any more.
		if sp, ok := byID[p.slot]; !ok || p.provider != sp.ProviderID || p.day != sp.Day {
			v.bumpProvider(p.provider, p.day, false)
		}
	}
	if len(got) == 0 {
		return
	}
	v.sinks = slices.DeleteFunc(v.sinks, func(fn func([]SlotPlaces) bool) bool { return !fn(got) })
}

// placesSQL reads the places of slots by id as Availability counts them;
// the two placeholders are now in Unix seconds, the id list follows.
const placesSQL = `SELECT s.id, s.provider_id, s.location_id, s.consultation_type_id, s.start_at,
       s.capacity, s.booked, s.status, p.active AND l.active AND c.active, l.timezone,
       (SELECT COUNT(*) FROM slot_holds h WHERE h.slot_id = s.id AND h.expires_at > ?),
       (SELECT MIN(h.expires_at) FROM slot_holds h WHERE h.slot_id = s.id AND h.expires_at > ?)
FROM slots s
JOIN providers p ON p.id = s.provider_id
JOIN locations l ON l.id = s.location_id
JOIN consultation_types c ON c.id = s.consultation_type_id
WHERE s.id IN (`

// placesReader reads the places of slots by id, at now.
type placesReader func(now time.Time, ids []string) ([]SlotPlaces, error)

// readSlotPlaces reads the places of the slots ids at now with query (a
// connection's or the pool's).
func readSlotPlaces(now time.Time, query func(q string, args ...any) (*sql.Rows, error), ids []string) ([]SlotPlaces, error) {
	args := make([]any, 0, 2+len(ids))
	args = append(args, now.Unix(), now.Unix())
	for _, id := range ids {
		args = append(args, id)
	}
	q := placesSQL + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")"
	rows, err := query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("read slot places: %w", err)
	}
	defer rows.Close()
	var out []SlotPlaces
	for rows.Next() {
		var id, provider, location, ctype, status, tz string
		var start int64
		var capacity, booked, held int
		var active bool
		var expiry sql.NullInt64
		if err := rows.Scan(&id, &provider, &location, &ctype, &start, &capacity, &booked, &status, &active, &tz,
			&held, &expiry); err != nil {
			return nil, fmt.Errorf("read slot places: %w", err)
		}
		sp := SlotPlaces{StartAt: time.Unix(start, 0), Day: start / 86400, Remaining: max(0, capacity-booked-held)}
		for _, f := range []struct {
			dst *uuid.UUID
			src string
		}{{&sp.ID, id}, {&sp.ProviderID, provider}, {&sp.LocationID, location}, {&sp.ConsultationTypeID, ctype}} {
			if *f.dst, err = uuid.Parse(f.src); err != nil {
				return nil, fmt.Errorf("read slot places: %w", err)
			}
		}
		if sp.Zone, err = loadZone(tz); err != nil {
			return nil, fmt.Errorf("read slot places: %w", err)
		}
		sp.Offered = active && status == string(booking.SlotOpen) && booked < capacity && sp.Remaining > 0
		if expiry.Valid {
			sp.HoldExpiry = time.Unix(expiry.Int64, 0)
		}
		out = append(out, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read slot places: %w", err)
	}
	return out, nil
}

// Covers reports whether the answer to q may hold slots of provider
// starting on the UTC day (start_at / 86400): those whose writes move q's
// AvailabilityVersion. It may say yes for a slot q leaves out.
func (q AvailabilityQuery) Covers(provider uuid.UUID, day int64) bool {
	if q.ProviderID != nil && *q.ProviderID != provider {
		return false
	}
	if q.Days.From.IsZero() {
		return true
	}
	lo, hi := availabilityDays(q.Days)
	return day >= lo && day <= hi
}
