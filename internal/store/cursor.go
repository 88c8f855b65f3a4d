package store

import (
	"encoding/base64"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// A cursor marks where the previous page ended: the sort key and the id of
// its last row, so that the next page starts strictly after it even when rows
// are added meanwhile. It is opaque to clients.
type cursor struct {
	key string // the sort key, formatted so that the database compares it right
	id  string
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.key + "|" + c.id))
}

// decodeCursor parses s; an empty s is the first page. A cursor that does not
// parse is the client's mistake: a validation error on "cursor".
func decodeCursor(s string) (cursor, bool, error) {
	if s == "" {
		return cursor{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, false, booking.Invalid("cursor", "is not a cursor this API returned")
	}
	key, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" {
		return cursor{}, false, booking.Invalid("cursor", "is not a cursor this API returned")
	}
	return cursor{key: key, id: id}, true, nil
}

// timeKey formats t for a cursor.
func timeKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTimeKey(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, booking.Invalid("cursor", "is not a cursor this API returned")
	}
	return t, nil
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

// pageByTime reads one page of q's rows in keyset order on (col, id),
// ascending or descending, starting after the cursor cur, and returns at
// most limit rows with the cursor of the next page ("" on the last page).
// key gives a row's sort time and id.
func pageByTime[R any](q *gorm.DB, cur string, limit int, col string, desc bool, key func(R) (time.Time, string)) ([]R, string, error) {
	limit = clampLimit(limit)
	c, ok, err := decodeCursor(cur)
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
		next = cursor{key: timeKey(t), id: id}.encode()
	}
	return rows, next, nil
}
