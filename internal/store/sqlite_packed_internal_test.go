package store

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// A packed row (json_array on SQLite, split in Go) reads the same values
// as go-sqlite3's own column by column scan, for every kind of value the
// pages hold: text with quotes, backslashes, control characters and
// non-ASCII letters, NULL, integers, booleans and DATETIME text or
// integers.
func TestPackedRowReadsWhatScanReads(t *testing.T) {
	db, err := openSQLiteGorm(filepath.Join(t.TempDir(), "packed.db"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	if err := db.Exec(`CREATE TABLE p (k INTEGER PRIMARY KEY, s TEXT NOT NULL, n TEXT, i INTEGER NOT NULL,
		big BIGINT NOT NULL, ok BOOLEAN NOT NULL, at DATETIME NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    string
		n    any
		i    int
		big  int64
		ok   bool
		at   any
	}{
		{name: "plain", s: "Smith", n: "x", i: 1, big: 1_780_000_000, ok: true, at: "2026-03-07 11:33:10.341233+00:00"},
		{name: "null and false", s: "", n: nil, i: 0, big: -5, ok: false, at: "2026-03-04 00:00:00+00:00"},
		{name: "quotes and backslashes", s: `O'Brien "Bo" \ C:\x \u0041`, n: `{"a":"b\"c"}`, i: -7, big: 0, ok: true, at: "2026-03-04T10:00:00Z"},
		{name: "control characters", s: "tab\there\nnew line\x01\x1f", n: "\r", i: 2, big: 1, ok: true, at: "2026-03-04 10:00"},
		{name: "non-ASCII", s: "Núñez 李 😀 \u2028", n: "ß", i: 3, big: 2, ok: false, at: "2026-03-04"},
		{name: "DATETIME as seconds", s: "a,b]c[", n: "]", i: 4, big: 3, ok: true, at: int64(1_780_000_000)},
		{name: "DATETIME as milliseconds", s: "null", n: "null", i: 5, big: 4, ok: true, at: int64(1_780_000_000_123)},
		{name: "DATETIME unreadable", s: "1", n: "2", i: 6, big: 5, ok: true, at: "not a time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := db.Exec("DELETE FROM p").Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec("INSERT INTO p VALUES (1, ?, ?, ?, ?, ?, ?)", tc.s, tc.n, tc.i, tc.big, tc.ok, tc.at).Error; err != nil {
				t.Fatal(err)
			}
			type row struct {
				S   string
				N   *string
				I   int
				Big int64
				OK  bool
				At  time.Time
			}
			dest := func(r *row) []any { return []any{&r.S, &r.N, &r.I, &r.Big, &r.OK, &r.At} }
			const cols = "s, n, i, big, ok, at"
			var want, got row
			if err := sqlDB.QueryRow("SELECT " + cols + " FROM p").Scan(dest(&want)...); err != nil {
				t.Fatal(err)
			}
			res, err := db.Raw("SELECT " + packed(db, cols) + " FROM p").Rows()
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			if !res.Next() {
				t.Fatal("no row")
			}
			if err := scanRow(db, res, dest(&got)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("packed: got %+v, want %+v", got, want)
			}
		})
	}
}

// A packed row that does not fit its destinations is an error, not a
// half-filled row.
func TestPackedRowRefusesAMismatch(t *testing.T) {
	var (
		s string
		n int
	)
	for _, tc := range []struct {
		name string
		row  string
		dest []any
	}{
		{"too few values", `["a"]`, []any{&s, &n}},
		{"too many values", `["a",1,2]`, []any{&s, &n}},
		{"a string for a number", `["a","1"]`, []any{&s, &n}},
		{"a number for a string", `[1,1]`, []any{&s, &n}},
		{"null for a string", `[null,1]`, []any{&s, &n}},
		{"unterminated", `["a,1]`, []any{&s, &n}},
		{"not an array", `{}`, []any{&s, &n}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := unpackRow(tc.row, tc.dest); err == nil {
				t.Errorf("unpackRow(%s): got nil error, want one", tc.row)
			}
		})
	}
}

// unescapeJSON decodes what encoding/json decodes, for the escapes a JSON
// string may hold.
func TestUnescapeJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`plain`, `\"quoted\"`, `back\\slash`, `\/`, `\b\f\n\r\t`, `\u0041\u00e9\u2028`,
		`\ud83d\ude00 pair`, `\ud83d lone high`, `\ude00 lone low`, `{\"red_flags\":[\"none\"],\"pain_severity\":7}`,
	} {
		var want string
		if err := json.Unmarshal([]byte(`"`+body+`"`), &want); err != nil {
			t.Fatalf("encoding/json %s: %v", body, err)
		}
		got, err := unescapeJSON(body)
		if err != nil || got != want {
			t.Errorf("unescapeJSON(%s) = %q, %v; want %q", body, got, err, want)
		}
	}
	for _, body := range []string{`\`, `\x`, `\u12`, `\uzzzz`} {
		if _, err := unescapeJSON(body); err == nil {
			t.Errorf("unescapeJSON(%s): got nil error, want one", body)
		}
	}
}
