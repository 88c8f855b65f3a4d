package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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

// BookingFilter selects and orders bookings for ListBookings. Its fields
// are already read (see booking.ParseBound and booking.ParseSearch); zero
// fields do not filter.
type BookingFilter struct {
	Statuses   []booking.Status // any of these
	From, To   booking.Bound    // a date is an inclusive day in each location's zone; an instant From inclusive, To exclusive
	ProviderID *uuid.UUID
	LocationID *uuid.UUID
	Search     booking.Search // reference, patient name, phone digits or email
	Sort       string         // SortCreatedDesc (default), SortStartAt or SortTriage
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
// *booking.ValidationError naming to, sort or cursor when one of them
// cannot be used.
//
// In three steps: the filter's checks (checkBookings), the query that
// finds the page's ids (plan), and the page's rows read whole with their
// slots in one statement (page).
func (s *Store) ListBookings(ctx context.Context, f BookingFilter) ([]BookingWithSlot, string, error) {
	l, err := checkBookings(f)
	if err != nil {
		return nil, "", err
	}
	db := s.listReads(l).WithContext(s.boundedQuery(ctx))
	rows, slots, more, err := s.bookingPage(ctx, db, l)
	if err != nil {
		return nil, "", fmt.Errorf("list bookings: %w", err)
	}
	next := ""
	if more != nil {
		next = l.cursorAt(*more)
	}
	out := make([]BookingWithSlot, 0, len(rows))
	for i, r := range rows {
		b, err := r.toDomain()
		if err != nil {
			return nil, "", err
		}
		sl, err := slots[i].toDomain()
		if err != nil {
			return nil, "", err
		}
		out = append(out, BookingWithSlot{Booking: b, Slot: sl})
	}
	return out, next, nil
}

// bookingList is a checked BookingFilter: its order, its cursor read, its
// search as the index's terms.
type bookingList struct {
	f         BookingFilter
	limit     int
	sort      string
	list      string // the cursor's list
	c         cursor
	hasCursor bool
	before    time.Time // SortCreatedDesc: the cursor's creation time
	start     int64     // SortStartAt: the cursor's slot start
	level     string    // SortTriage: the cursor's level and creation time
	created   time.Time
	groups    [][]string // f.Search as searchTerms
}

// checkBookings checks f: a known order, a range in order and a cursor of
// that order.
func checkBookings(f BookingFilter) (bookingList, error) {
	l := bookingList{f: f, limit: clampLimit(f.Limit), sort: f.Sort, groups: searchTerms(f.Search)}
	if l.sort == "" {
		l.sort = SortCreatedDesc
	}
	var p booking.Problems
	switch l.sort {
	case SortCreatedDesc:
		l.list = listBookingsByNew
	case SortStartAt:
		l.list = listBookingsByStart
	case SortTriage:
		l.list = listBookingsTriage
	default:
		p.AddEnum("sort", []string{SortStartAt, SortCreatedDesc, SortTriage}, "must be start_at, -created_at or triage")
	}
	p.Check(!booking.BoundsOutOfOrder(f.From, f.To), "to", booking.FieldOutOfOrder, "must not be before from")
	if err := p.Err(); err != nil {
		return l, err
	}
	var err error
	if l.c, l.hasCursor, err = decodeCursor(l.list, f.Cursor); err != nil || !l.hasCursor {
		return l, err
	}
	switch l.sort {
	case SortTriage:
		level, at, ok := strings.Cut(l.c.key, ",")
		created, err := parseTimeKey(at)
		if !ok || err != nil || (level != string(booking.TriageRoutine) && level != string(booking.TriageUrgent)) {
			return l, errBadCursor
		}
		l.level, l.created = level, created
	case SortStartAt:
		if l.start, err = parseIntKey(l.c.key); err != nil {
			return l, err
		}
	default:
		if l.before, err = parseTimeKey(l.c.key); err != nil {
			return l, err
		}
	}
	return l, nil
}

// listReads is the pool that reads the list l: reception's search as you
// type (plainSearch) on the search pool (see Store.searchDB), whose few
// statements are planned once per connection; every other list, whose
// filters vary more, on the main pool.
func (s *Store) listReads(l bookingList) *gorm.DB {
	if l.plainSearch() {
		return s.searchDB
	}
	return s.db
}

// plainSearch reports whether l is a search and nothing else, newest
// first: reception's search as you type.
func (l bookingList) plainSearch() bool {
	f := l.f
	return len(l.groups) > 0 && l.sort == SortCreatedDesc && len(f.Statuses) == 0 && f.ProviderID == nil &&
		f.LocationID == nil && f.From.IsZero() && f.To.IsZero()
}

// cursorAt is the cursor of the page that follows row.
func (l bookingList) cursorAt(r bookingRow) string {
	key := timeKey(r.CreatedAt)
	switch l.sort {
	case SortStartAt:
		key = strconv.FormatInt(r.SlotStartAt, 10)
	case SortTriage:
		key = r.TriageLevel + "," + key
	}
	return cursor{list: l.list, key: key, id: r.ID}.encode()
}

// compare orders two rows as the list does.
func (l bookingList) compare(a, b *bookingRow) int {
	switch l.sort {
	case SortStartAt:
		if c := cmp.Compare(a.SlotStartAt, b.SlotStartAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	case SortTriage:
		// 'urgent' sorts after 'routine': descending puts it first.
		if c := strings.Compare(b.TriageLevel, a.TriageLevel); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	}
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

// plan returns the query of the ids of the bookings l selects after its
// cursor, in its order, limit+1 of them.
func (s *Store) plan(ctx context.Context, db *gorm.DB, l bookingList) (*gorm.DB, error) {
	f := l.f
	q := db.Model(&bookingRow{}).Select("id")
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", strs(f.Statuses))
	}
	if f.ProviderID != nil {
		q = q.Where("slot_id IN (SELECT id FROM slots WHERE provider_id = ?)", f.ProviderID.String())
	}
	if f.LocationID != nil {
		q = q.Where("slot_id IN (SELECT id FROM slots WHERE location_id = ?)", f.LocationID.String())
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		cond, args, err := s.startRange(ctx, f.LocationID, f.From, f.To)
		if err != nil {
			return nil, err
		}
		q = q.Where(cond, args...)
	}
	q = s.searchBookings(q, l.f.Search, l.groups)
	// With a search on SQLite, the few matching rows are found through the
	// full-text index and then sorted; a unary + keeps the planner from
	// walking the whole sort index instead, testing every booking against
	// the match (SQLite has no statistics to tell the two apart).
	plus := ""
	if len(l.groups) > 0 && s.dialect == SQLite {
		plus = "+"
	}
	createdKey := plus + "created_at"
	if len(l.groups) > 0 && s.dialect == Postgres {
		// The same on PostgreSQL: the trigram index finds the matches and
		// they are sorted, rather than bookings_created walked and every
		// booking tested (an expression is not the index's column).
		createdKey = "(created_at + interval '0 second')"
	}
	order := createdKey + " DESC, " + plus + "id DESC"
	switch l.sort {
	case SortStartAt:
		order = plus + "slot_start_at, " + plus + "id"
	case SortTriage:
		// 'urgent' sorts after 'routine': descending puts it first.
		order = plus + "triage_level DESC, " + plus + "created_at, " + plus + "id"
	}
	if l.hasCursor {
		switch l.sort {
		case SortTriage:
			q = q.Where("(triage_level < ? OR (triage_level = ? AND (created_at > ? OR (created_at = ? AND id > ?))))",
				l.level, l.level, l.created, l.created, l.c.id)
		case SortStartAt:
			q = q.Where("(slot_start_at > ? OR (slot_start_at = ? AND id > ?))", l.start, l.start, l.c.id)
		default:
			q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", l.before, l.before, l.c.id)
		}
	}
	return q.Order(order).Limit(l.limit + 1), nil
}

// bookingPage reads the page l asks for: its rows whole and their slots
// (slots[i] is rows[i]'s), in l's order, and the last row when more
// follow (the next page's cursor), else nil.
func (s *Store) bookingPage(ctx context.Context, db *gorm.DB, l bookingList) (rows []bookingRow, slots []slotRow, more *bookingRow, err error) {
	switch {
	case s.dialect == SQLite && l.plainSearch():
		// Reception's search: the page's matches come from the full-text
		// index newest first (newestMatches), then those rows whole. A
		// common name matches hundreds of bookings; sorting them would
		// read every one.
		expr := ftsQuery(l.groups)
		if expr == "" {
			return nil, nil, nil, nil
		}
		hits, err := newestMatches(db, bookingFTS, expr, l.before, l.c.id, l.hasCursor, l.limit+1)
		if err != nil {
			return nil, nil, nil, err
		}
		if len(hits) > l.limit {
			// More follow, whether or not a row of this page was deleted
			// since the index was read.
			hits = hits[:l.limit]
			more = &bookingRow{ID: hits[l.limit-1].ID, CreatedAt: hits[l.limit-1].CreatedAt}
		}
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		inIDs, idsArg := s.inList("b.id", ids)
		rows, slots, err = readBookings(db, inIDs, idsArg)
		if err != nil {
			return nil, nil, nil, err
		}
	case s.dialect == Postgres && l.plainSearch() && walkable(l.groups):
		// Reception's search for a name: the newest bookings first, in
		// bookings_created (newestWalk); the trigram index when they do
		// not fill the page.
		walk := newestWalk(db, s.walkBudget, "bookings", false, l.groups[0][0], l.before, l.c.id, l.hasCursor, l.limit+1)
		if rows, slots, err = readBookings(db, "b.id IN (?)", walk); err != nil {
			return nil, nil, nil, err
		}
		if len(rows) > l.limit {
			break
		}
		fallthrough
	default:
		ids, err := s.plan(ctx, db, l)
		if err != nil {
			return nil, nil, nil, err
		}
		if rows, slots, err = readBookings(db, "b.id IN (?)", ids); err != nil {
			return nil, nil, nil, err
		}
	}
	// In the list's order (a row deleted since its id was read is simply
	// left out).
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return l.compare(&rows[a], &rows[b]) })
	sortedRows, sortedSlots := make([]bookingRow, len(rows)), make([]slotRow, len(rows))
	for i, j := range idx {
		sortedRows[i], sortedSlots[i] = rows[j], slots[j]
	}
	rows, slots = sortedRows, sortedSlots
	if len(rows) > l.limit {
		rows, slots = rows[:l.limit], slots[:l.limit]
		more = &rows[l.limit-1]
	}
	return rows, slots, more, nil
}

// startRange builds the condition on slot_start_at for a from/to filter.
// Instants are the same everywhere; a date is a local calendar day, so its
// bounds are computed in each location's zone and the condition is one
// branch per location (a clinic has a handful).
func (s *Store) startRange(ctx context.Context, locationID *uuid.UUID, from, to booking.Bound) (string, []any, error) {
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
	bound := func(b booking.Bound, next bool, loc *time.Location) int64 {
		if !b.IsDate() {
			return ceilUnix(b.Instant)
		}
		day := b.Date
		if next {
			day = day.AddDays(1)
		}
		return day.StartIn(loc).Unix()
	}
	hasFrom, hasTo := !from.IsZero(), !to.IsZero()
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
			args = append(args, bound(from, false, loc))
		}
		if hasTo {
			conds = append(conds, "slot_start_at < ?")
			args = append(args, bound(to, true, loc))
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

// searchBookings narrows q to the bookings that match search, through the
// search index of the database (see search.go). On SQLite that is one
// MATCH of the groups of terms (searchTerms). On PostgreSQL a phone search
// looks for its digits in the phone (its own trigram index), a reference
// is the reference column (its unique index), and words must each appear in
// the search document (the document's trigram index).
func (s *Store) searchBookings(q *gorm.DB, search booking.Search, groups [][]string) *gorm.DB {
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
	if digits, ref := search.PhoneDigits(), search.Reference; digits != "" || ref != "" {
		var parts []string
		var args []any
		if digits != "" {
			parts, args = append(parts, "patient_phone LIKE ?"), append(args, "%"+digits+"%")
		}
		if ref != "" {
			parts, args = append(parts, "reference = ?"), append(args, ref)
		}
		return q.Where("("+strings.Join(parts, " OR ")+")", args...)
	}
	return wordsLike(q, groups)
}

// wordsLike narrows q, on PostgreSQL, to the rows whose search document
// holds every group's word (searchTerms, patientGroups: one each); a group
// of none (a word of punctuation only) matches nothing.
func wordsLike(q *gorm.DB, groups [][]string) *gorm.DB {
	for _, g := range groups {
		if len(g) == 0 {
			return q.Where("1 = 0")
		}
		q = q.Where(`search_text LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(g[0])+"%")
	}
	return q
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// searchTerms turns a search into groups of lower-case terms: a booking
// matches when, for every group, its search text holds one of the group's
// terms. A whole phone number is searched in E.164 form, part of one as its
// digits; a reference with and without its dash (the document holds both;
// a reference of digits only may be phone digits too, so both are tried);
// anything else is words, each of which must appear, folded as the
// documents are (queryTerm). Words of punctuation only are left out; when
// every word is, the one group left has no term, which matches nothing.
func searchTerms(q booking.Search) [][]string {
	var alternatives []string
	switch {
	case q.Phone != "":
		alternatives = append(alternatives, q.Phone)
	case q.Digits != "":
		alternatives = append(alternatives, q.Digits)
	}
	if q.Reference != "" {
		ref := strings.ToLower(q.Reference)
		alternatives = append(alternatives, ref, strings.ReplaceAll(ref, "-", ""))
	}
	if len(alternatives) > 0 {
		return [][]string{alternatives}
	}
	return wordGroups(q.Words)
}

// wordGroups returns the groups of search words (see searchTerms): one
// term each, folded (queryTerm); a single empty group when words has some
// but none holds a letter or digit.
func wordGroups(words []string) [][]string {
	var out [][]string
	for _, w := range words {
		if t, ok := queryTerm(w); ok {
			out = append(out, []string{t})
		}
	}
	if len(out) == 0 && len(words) > 0 {
		return [][]string{{}}
	}
	return out
}
