package store

import (
	"database/sql/driver"
	"strings"
)

// inList returns the condition that col is one of vals, and its argument.
// GORM writes a slice as one placeholder per element, so on PostgreSQL a
// statement's text would change with the list's length, and each length be
// prepared and planned anew on every connection (pgx caches statements by
// their text); there the list is one array parameter instead. SQLite has
// no arrays: its statement cache keeps the few lengths a page has.
func (s *Store) inList(col string, vals []string) (string, any) {
	if s.dialect == Postgres {
		return col + " = ANY(CAST(? AS text[]))", textArray(vals)
	}
	return col + " IN ?", vals
}

// textArray is a list of strings sent to PostgreSQL as one text[] value,
// in the array's literal form.
type textArray []string

// Value implements driver.Valuer.
func (a textArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range v {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}
