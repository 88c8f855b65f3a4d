package store

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// A cursor marks where the previous page ended: the sort key and the id of
// its last row, so that the next page starts strictly after it even when rows
// are added meanwhile. It is opaque to clients, and bound to the list (and
// sort order) that issued it: its list tag must match, its id must be a
// UUID and its key must parse, all before any SQL runs, so a cursor from
// another list, bad bytes or a tampered value are the same 422 on every
// database.
type cursor struct {
	list string // which list issued it, e.g. "slots" or "bookings:start_at"
	key  string // the sort key, formatted so that the database compares it right
	id   string
}

// Lists that issue cursors; a cursor only pages the list whose tag it holds.
const (
	listSlots           = "slots"
	listBookingsByStart = "bookings:start_at"
	listBookingsByNew   = "bookings:-created_at"
	listBookingsTriage  = "bookings:triage"
	listStaff           = "staff"
	listAudit           = "audit-events"
	listSchedules       = "schedules"
	listWebhooks        = "webhook-endpoints"
	listWebhookSends    = "webhook-deliveries"
	listPatients        = "patients"
	listWaitlist        = "waitlist"
)

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.list + "|" + c.key + "|" + c.id))
}

var errBadCursor = booking.Invalid("cursor", booking.FieldNotFound, "is not a cursor this list returned; start again without one")

// decodeCursor parses s, a cursor of list; an empty s is the first page. A
// cursor of another list, or one that does not parse, is the client's
// mistake: a validation error on "cursor".
func decodeCursor(list, s string) (cursor, bool, error) {
	if s == "" {
		return cursor{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return cursor{}, false, errBadCursor
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 || parts[0] != list || parts[1] == "" {
		return cursor{}, false, errBadCursor
	}
	if _, err := booking.ParseID(parts[2]); err != nil {
		return cursor{}, false, errBadCursor
	}
	return cursor{list: list, key: parts[1], id: parts[2]}, true, nil
}

// timeKey formats t for a cursor.
func timeKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTimeKey(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errBadCursor
	}
	return t, nil
}

// decodeTimeCursor decodes a cursor of list whose sort key is a time,
// returning that time too (zero without a cursor).
func decodeTimeCursor(list, s string) (cursor, time.Time, bool, error) {
	c, ok, err := decodeCursor(list, s)
	if err != nil || !ok {
		return c, time.Time{}, ok, err
	}
	t, err := parseTimeKey(c.key)
	if err != nil {
		return cursor{}, time.Time{}, false, err
	}
	return c, t, true, nil
}

// parseIntKey parses an integer sort key of a cursor.
func parseIntKey(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errBadCursor
	}
	return n, nil
}

// clampLimit applies the API's page size rules: default 50, at most 200.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 200:
		return 200
	}
	return n
}

// utc truncates t to microseconds, the precision both databases keep, in UTC,
// so that a value read back equals the value written.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// pageByTime reads one page of list's rows q selects in keyset order on (col, id),
// ascending or descending, starting after the cursor cur, and returns at
// most limit rows with the cursor of the next page ("" on the last page).
// key gives a row's sort time and id.
func pageByTime[R any](q *gorm.DB, list, cur string, limit int, col string, desc bool, key func(R) (time.Time, string)) ([]R, string, error) {
	limit = clampLimit(limit)
	c, ok, err := decodeCursor(list, cur)
	if err != nil {
		return nil, "", err
	}
	order, cmp := col+", id", ">"
	if desc {
		order, cmp = col+" DESC, id DESC", "<"
	}
	q = q.Order(order).Limit(limit + 1)
	if ok {
		t, err := parseTimeKey(c.key)
		if err != nil {
			return nil, "", err
		}
		q = q.Where(col+" "+cmp+" ? OR ("+col+" = ? AND id "+cmp+" ?)", t, t, c.id)
	}
	var rows []R
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		t, id := key(rows[limit-1])
		next = cursor{list: list, key: timeKey(t), id: id}.encode()
	}
	return rows, next, nil
}
