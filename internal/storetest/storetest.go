// Package storetest gives tests real databases: a fresh SQLite file in the
// test's temporary folder always, and a fresh PostgreSQL schema when
// TEST_DATABASE_URL names a server. Nothing is mocked.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for schema set-up

	"github.com/clinic/consult/internal/store"
)

// Backend is one database a test can run on.
type Backend struct {
	Name string // "sqlite" or "postgres"
	// URL opens a fresh, empty database of this backend for t and drops it
	// when t ends. Two calls give two databases; one URL opened twice is one
	// database shared by two stores (as by two server processes).
	URL func(t testing.TB) string
}

// Backends lists the databases to run on: SQLite always, PostgreSQL when
// TEST_DATABASE_URL is set.
func Backends() []Backend {
	b := []Backend{{Name: "sqlite", URL: SQLiteURL}}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		b = append(b, Backend{Name: "postgres", URL: PostgresURL})
	}
	return b
}

// Each runs fn as a subtest on every backend, each with a fresh store.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, Open(t, b.URL(t)))
		})
	}
}

// Open opens a store on rawURL and closes it when t ends.
func Open(t testing.TB, rawURL string, opts ...store.Option) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), rawURL, slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// SQLiteURL returns the URL of a new SQLite file in t's temporary folder.
func SQLiteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "clinic.db")
}

// PostgresURL creates an empty schema on the TEST_DATABASE_URL server and
// returns a URL whose connections use it; the schema is dropped when t ends.
// It skips t when TEST_DATABASE_URL is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
