package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// Sort orders of ListBookings.
const (
	SortCreatedDesc = "-created_at" // newest first; the default
	SortStartAt     = "start_at"    // by slot start, earliest first
	SortTriage      = "triage"      // the staff queue: urgent before routine, then oldest first
)

// BookingFilter selects and orders bookings for ListBookings. Zero fields
// do not filter.
type BookingFilter struct {
	Statuses   []booking.Status // any of these
	From, To   string           // YYYY-MM-DD (inclusive days in each location's zone) or RFC 3339 (From inclusive, To exclusive)
	ProviderID *uuid.UUID
	LocationID *uuid.UUID
	Query      string // reference, patient name, phone or email
	Sort       string // SortCreatedDesc (default), SortStartAt or SortTriage
	Cursor     string
	Limit      int
}

// BookingWithSlot is a booking with the slot it is in.
type BookingWithSlot struct {
	Booking booking.Booking
	Slot    booking.Slot
}

// ListBookings pages through the bookings f selects, in f's order, and
// returns the cursor of the next page ("" on the last). It returns a
// *booking.ValidationError naming from, to, sort or cursor when one of them
// cannot be used.
func (s *Store) ListBookings(ctx context.Context, f BookingFilter) ([]BookingWithSlot, string, error) {
	limit := clampLimit(f.Limit)
	db := s.db.WithContext(s.boundedQuery(ctx))
	q := db.Model(&bookingRow{})
	var p booking.Problems
	from, fromDate, okFrom := parseBound(&p, "from", f.From)
	to, toDate, okTo := parseBound(&p, "to", f.To)
	sortBy := f.Sort
	if sortBy == "" {
		sortBy = SortCreatedDesc
	}
	if sortBy != SortCreatedDesc && sortBy != SortStartAt && sortBy != SortTriage {
		p.AddEnum("sort", []string{SortStartAt, SortCreatedDesc, SortTriage}, "must be start_at, -created_at or triage")
	}
	var fromDay, toDay booking.Date
	if fromDate != nil {
		fromDay = *fromDate
	}
	if toDate != nil {
		toDay = *toDate
	}
	p.Check(!booking.RangeOutOfOrder(fromDay, from, toDay, to), "to", booking.FieldOutOfOrder, "must not be before from")
	if err := p.Err(); err != nil {
		return nil, "", err
	}

	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", strs(f.Statuses))
	}
	if f.ProviderID != nil {
		q = q.Where("slot_id IN (SELECT id FROM slots WHERE provider_id = ?)", f.ProviderID.String())
	}
	if f.LocationID != nil {
		q = q.Where("slot_id IN (SELECT id FROM slots WHERE location_id = ?)", f.LocationID.String())
	}
	if okFrom || okTo {
		cond, args, err := s.startRange(ctx, f.LocationID, from, fromDate, to, toDate)
		if err != nil {
			return nil, "", err
		}
		q = q.Where(cond, args...)
	}
	groups := searchTerms(f.Query)
	q = s.searchBookings(q, groups)
	// With a search on SQLite, the few matching rows are found through the
	// full-text index and then sorted; a unary + keeps the planner from
	// walking the whole sort index instead, testing every booking against
	// the match (SQLite has no statistics to tell the two apart).
	plus := ""
	if len(groups) > 0 && s.dialect == SQLite {
		plus = "+"
	}
	createdKey := plus + "created_at"
	if len(groups) > 0 && s.dialect == Postgres {
		// The same on PostgreSQL: the trigram index finds the matches and
		// they are sorted, rather than bookings_created walked and every
		// booking tested (an expression is not the index's column).
		createdKey = "(created_at + interval '0 second')"
	}

	list := listBookingsByNew
	switch sortBy {
	case SortStartAt:
		list = listBookingsByStart
	case SortTriage:
		list = listBookingsTriage
	}
	c, hasCursor, err := decodeCursor(list, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	order := createdKey + " DESC, " + plus + "id DESC"
	switch sortBy {
	case SortStartAt:
		order = plus + "slot_start_at, " + plus + "id"
	case SortTriage:
		// 'urgent' sorts after 'routine': descending puts it first.
		order = plus + "triage_level DESC, " + plus + "created_at, " + plus + "id"
	}
	var before time.Time // the cursor's creation time, sorting by it
	switch sortBy {
	case SortTriage:
		if hasCursor {
			level, at, ok := strings.Cut(c.key, ",")
			created, err := parseTimeKey(at)
			if !ok || err != nil || (level != string(booking.TriageRoutine) && level != string(booking.TriageUrgent)) {
				return nil, "", errBadCursor
			}
			q = q.Where("(triage_level < ? OR (triage_level = ? AND (created_at > ? OR (created_at = ? AND id > ?))))",
				level, level, created, created, c.id)
		}
	case SortStartAt:
		if hasCursor {
			start, err := parseIntKey(c.key)
			if err != nil {
				return nil, "", err
			}
			q = q.Where("(slot_start_at > ? OR (slot_start_at = ? AND id > ?))", start, start, c.id)
		}
	default:
		if hasCursor {
			var err error
			if before, err = parseTimeKey(c.key); err != nil {
				return nil, "", err
			}
			q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", before, before, c.id)
		}
	}
	plainSearch := len(f.Statuses) == 0 && f.ProviderID == nil && f.LocationID == nil && !okFrom && !okTo
	var (
		rows []bookingRow
		more *ftsHit // a plain search's last row when more follow
	)
	switch {
	case plus != "" && plainSearch && sortBy == SortCreatedDesc:
		// Reception's search: the page's matches come from the full-text
		// index newest first (newestMatches), then those rows whole. A
		// common name matches hundreds of bookings; sorting them would
		// read every one.
		var err error
		if rows, more, err = searchPage[bookingRow](db, bookingFTS, ftsQuery(groups), before, c.id, hasCursor, limit); err != nil {
			return nil, "", fmt.Errorf("list bookings: %w", err)
		}
	case s.dialect == Postgres && plainSearch && sortBy == SortCreatedDesc && walkable(groups):
		// Reception's search for a name: the newest bookings first, in
		// bookings_created (newestWalk); the trigram index when they do
		// not fill the page.
		walk := newestWalk(db, s.walkBudget, "bookings", false, groups[0][0], before, c.id, hasCursor, limit+1)
		if err := db.Where("id IN (?)", walk).Order("created_at DESC, id DESC").Find(&rows).Error; err != nil {
			return nil, "", fmt.Errorf("list bookings: %w", err)
		}
		if len(rows) <= limit {
			rows = nil
			if err := q.Order(order).Limit(limit + 1).Find(&rows).Error; err != nil {
				return nil, "", fmt.Errorf("list bookings: %w", err)
			}
		}
	default:
		if plus != "" {
			// Other filters too: the page's ids first, then those rows whole.
			page := q.Session(&gorm.Session{}).Select("id").Order(order).Limit(limit + 1)
			q = db.Model(&bookingRow{}).Where("id IN (?)", page)
		}
		if err := q.Order(order).Limit(limit + 1).Find(&rows).Error; err != nil {
			return nil, "", fmt.Errorf("list bookings: %w", err)
		}
	}
	next := ""
	if more != nil {
		next = cursor{list: list, key: timeKey(more.CreatedAt), id: more.ID}.encode()
	} else if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		key := timeKey(last.CreatedAt)
		switch sortBy {
		case SortStartAt:
			key = strconv.FormatInt(last.SlotStartAt, 10)
		case SortTriage:
			key = last.TriageLevel + "," + key
		}
		next = cursor{list: list, key: key, id: last.ID}.encode()
	}
	slots, err := slotsByID(db, rows)
	if err != nil {
		return nil, "", err
	}
	out := make([]BookingWithSlot, 0, len(rows))
	for _, r := range rows {
		b, err := r.toDomain()
		if err != nil {
			return nil, "", err
		}
		out = append(out, BookingWithSlot{Booking: b, Slot: slots[r.SlotID]})
	}
	return out, next, nil
}

func slotsByID(db *gorm.DB, rows []bookingRow) (map[string]booking.Slot, error) {
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.SlotID)
	}
	out := make(map[string]booking.Slot, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var slotRows []slotRow
	if err := db.Where("id IN ?", ids).Find(&slotRows).Error; err != nil {
		return nil, fmt.Errorf("list bookings: slots: %w", err)
	}
	for _, r := range slotRows {
		sl, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		out[r.ID] = sl
	}
	return out, nil
}

// parseBound reads a from or to filter: an RFC 3339 instant, or a
// YYYY-MM-DD date whose instants depend on each location's zone.
func parseBound(p *booking.Problems, field, s string) (time.Time, *booking.Date, bool) {
	if s == "" {
		return time.Time{}, nil, false
	}
	if len(s) == 10 {
		d, err := booking.ParseDate(s)
		if err != nil {
			p.Add(field, booking.FieldFormat, "must be a date YYYY-MM-DD or an RFC 3339 date-time with an offset")
			return time.Time{}, nil, false
		}
		return time.Time{}, &d, true
	}
	t, err := booking.ParseInstant(s)
	if err != nil {
		p.Add(field, booking.FieldFormat, "must be a date YYYY-MM-DD or an RFC 3339 date-time with an offset")
		return time.Time{}, nil, false
	}
	return t, nil, true
}

// startRange builds the condition on slot_start_at for a from/to filter.
// Instants are the same everywhere; a date is a local calendar day, so its
// bounds are computed in each location's zone and the condition is one
// branch per location (a clinic has a handful).
func (s *Store) startRange(ctx context.Context, locationID *uuid.UUID, from time.Time, fromDate *booking.Date,
	to time.Time, toDate *booking.Date) (string, []any, error) {
	type zoneRow struct {
		ID       string
		Timezone string
	}
	var zones []zoneRow
	q := s.db.WithContext(ctx).Table("locations").Select("id, timezone")
	if locationID != nil {
		q = q.Where("id = ?", locationID.String())
	}
	if err := q.Order("id").Find(&zones).Error; err != nil {
		return "", nil, fmt.Errorf("list bookings: locations: %w", err)
	}
	bound := func(instant time.Time, d *booking.Date, next bool, loc *time.Location) int64 {
		if d == nil {
			return ceilUnix(instant)
		}
		day := *d
		if next {
			day = day.AddDays(1)
		}
		return day.StartIn(loc).Unix()
	}
	hasFrom, hasTo := fromDate != nil || !from.IsZero(), toDate != nil || !to.IsZero()
	var branches []string
	var args []any
	for _, z := range zones {
		loc, err := time.LoadLocation(z.Timezone)
		if err != nil {
			loc = time.UTC
		}
		var conds []string
		if hasFrom {
			conds = append(conds, "slot_start_at >= ?")
			args = append(args, bound(from, fromDate, false, loc))
		}
		if hasTo {
			conds = append(conds, "slot_start_at < ?")
			args = append(args, bound(to, toDate, true, loc))
		}
		conds = append(conds, "slot_id IN (SELECT id FROM slots WHERE location_id = ?)")
		args = append(args, z.ID)
		branches = append(branches, "("+strings.Join(conds, " AND ")+")")
	}
	if len(branches) == 0 {
		return "1 = 0", nil, nil
	}
	return "(" + strings.Join(branches, " OR ") + ")", args, nil
}

// searchBookings narrows q to the bookings that match every group of
// terms (see searchTerms), through the search index of the database (see
// search.go).
func (s *Store) searchBookings(q *gorm.DB, groups [][]string) *gorm.DB {
	if len(groups) == 0 {
		return q
	}
	if s.dialect == SQLite {
		expr := ftsQuery(groups)
		if expr == "" {
			return q.Where("1 = 0")
		}
		return q.Where(`id IN (SELECT m.booking_id FROM booking_search_ids m WHERE m.docid IN
  (SELECT docid FROM booking_search WHERE booking_search MATCH ?))`, expr)
	}
	for _, group := range groups {
		parts := make([]string, len(group))
		args := make([]any, len(group))
		for i, term := range group {
			parts[i] = `search_text LIKE ? ESCAPE '\'`
			args[i] = "%" + likeEscaper.Replace(term) + "%"
		}
		q = q.Where("("+strings.Join(parts, " OR ")+")", args...)
	}
	return q
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// searchTerms turns a search into groups of lower-case terms: a booking
// matches when, for every group, its search text holds one of the group's
// terms. A phone number, however typed, is searched in E.164 form (or as its
// digits, for part of a number); a reference typed without its dash is also
// searched with it (a reference of digits only may look like a phone number,
// so both are tried); anything else is words, each of which must appear.
func searchTerms(q string) [][]string {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return nil
	}
	var alternatives []string
	if phoneLike(q) {
		if v, ok := booking.NormalizePhone(q); ok {
			alternatives = append(alternatives, v)
		} else {
			alternatives = append(alternatives, strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, q))
		}
	}
	if ref, ok := booking.NormalizeReference(q); ok {
		alternatives = append(alternatives, q, strings.ToLower(ref))
	}
	if len(alternatives) > 0 {
		return [][]string{alternatives}
	}
	var out [][]string
	for _, w := range strings.Fields(q) {
		out = append(out, []string{w})
	}
	return out
}

// phoneLike reports whether q is written like (part of) a phone number:
// digits with the usual separators, at least four digits.
func phoneLike(q string) bool {
	digits := 0
	for i, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 4
}
