package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	sqlite3 "github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// A page of whole rows on SQLite is read packed: the statement selects one
// json_array(...) of the row's columns, and Go splits it (scanPacked).
// go-sqlite3 reads every column through three cgo calls (its type, its
// length, its bytes), a copy and a boxing into an interface, and a search
// page is 20 rows of 33 to 44 columns: about 2,600 cgo calls, which cost
// more than SQLite's reading the rows' pages (see BENCHMARKS.md, "Search:
// CPU per request"). Packed, a row is one cgo call and one string, and
// its text values are slices of that string.

// packedOn reports whether pages read on db are packed (SQLite).
func packedOn(db *gorm.DB) bool {
	return db.Dialector.Name() == "sqlite"
}

// packed wraps a select list in json_array when pages on db are packed.
func packed(db *gorm.DB, cols string) string {
	if packedOn(db) {
		return "json_array(" + cols + ")"
	}
	return cols
}

// scanRow scans the current row of rows into dest: one packed column on
// SQLite (see packed), else the columns themselves.
func scanRow(db *gorm.DB, rows *sql.Rows, dest []any) error {
	if !packedOn(db) {
		return rows.Scan(dest...)
	}
	var row string
	if err := rows.Scan(&row); err != nil {
		return err
	}
	return unpackRow(row, dest)
}

// unpackRow assigns the values of the JSON array row, as SQLite's
// json_array writes it (strings, integers, null), to dest in order. The
// conversions are go-sqlite3's for the same columns: a DATETIME's text in
// one of its layouts (an integer as Unix seconds, or milliseconds when
// past 1e12), a BOOLEAN's integer as true when positive, NULL as a nil
// pointer.
func unpackRow(row string, dest []any) error {
	p := row
	if !strings.HasPrefix(p, "[") {
		return errors.New("packed row: not an array")
	}
	p = p[1:]
	for i, d := range dest {
		if i > 0 {
			if !strings.HasPrefix(p, ",") {
				return fmt.Errorf("packed row: %d values, want %d", i, len(dest))
			}
			p = p[1:]
		}
		var (
			tok     string
			isStr   bool
			escaped bool
		)
		switch {
		case strings.HasPrefix(p, `"`):
			end := 1
			for end < len(p) && p[end] != '"' {
				if p[end] == '\\' {
					escaped = true
					end++
				}
				end++
			}
			if end >= len(p) {
				return errors.New("packed row: unterminated string")
			}
			tok, isStr, p = p[:end+1], true, p[end+1:]
		default:
			end := strings.IndexAny(p, ",]")
			if end < 0 {
				return errors.New("packed row: unterminated value")
			}
			tok, p = p[:end], p[end:]
		}
		if err := assignPacked(d, tok, isStr, escaped); err != nil {
			return fmt.Errorf("packed row: value %d: %w", i, err)
		}
	}
	if p != "]" {
		return fmt.Errorf("packed row: more than %d values", len(dest))
	}
	return nil
}

// assignPacked assigns one value of a packed row: tok is a JSON string
// (isStr, with its quotes; escaped when it holds a backslash), or a JSON
// number or null.
func assignPacked(d any, tok string, isStr, escaped bool) error {
	if tok == "null" {
		switch d := d.(type) {
		case **string:
			*d = nil
			return nil
		}
		return errors.New("null into a non-pointer")
	}
	var s string
	if isStr {
		if escaped {
			var err error
			if s, err = unescapeJSON(tok[1 : len(tok)-1]); err != nil {
				return err
			}
		} else {
			s = tok[1 : len(tok)-1]
		}
	}
	switch d := d.(type) {
	case *string:
		if !isStr {
			return fmt.Errorf("number %s into a string", tok)
		}
		*d = s
	case **string:
		if !isStr {
			return fmt.Errorf("number %s into a string", tok)
		}
		*d = &s
	case *bool, *int, *int64:
		if isStr {
			return fmt.Errorf("string into %T", d)
		}
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			return err
		}
		switch d := d.(type) {
		case *bool:
			*d = n > 0
		case *int:
			*d = int(n)
		case *int64:
			*d = n
		}
	case *time.Time:
		if !isStr {
			n, err := strconv.ParseInt(tok, 10, 64)
			if err != nil {
				return err
			}
			if n > 1e12 || n < -1e12 {
				*d = time.Unix(0, n*int64(time.Millisecond)).UTC()
			} else {
				*d = time.Unix(n, 0).UTC()
			}
			return nil
		}
		*d = parseSQLiteTime(s)
	default:
		return fmt.Errorf("unsupported destination %T", d)
	}
	return nil
}

// unescapeJSON decodes the body of a JSON string that holds backslash
// escapes (an intake's JSON text in a packed row is one): a hand-written
// loop, as encoding/json's reflection for one string cost as much as
// splitting the whole row.
func unescapeJSON(body string) (string, error) {
	var b strings.Builder
	b.Grow(len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i++; i >= len(body) {
			return "", errors.New("string ends in a backslash")
		}
		switch body[i] {
		case '"', '\\', '/':
			b.WriteByte(body[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(body[i+1:])
			if !ok {
				return "", errors.New("bad \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A character beyond the BMP is a pair of escapes.
				if lo, ok := hex4(strings.TrimPrefix(body[i+1:], `\u`)); ok && strings.HasPrefix(body[i+1:], `\u`) {
					if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
			}
			b.WriteRune(r)
		default:
			return "", fmt.Errorf("bad escape \\%c", body[i])
		}
	}
	return b.String(), nil
}

// hex4 reads the four hex digits a \u escape starts s with.
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(s[:4], 16, 32)
	return rune(n), err == nil
}

// parseSQLiteTime reads a DATETIME's text as go-sqlite3 does: the first of
// its layouts that fits, else the zero time.
func parseSQLiteTime(s string) time.Time {
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range sqlite3.SQLiteTimestampFormats {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}
