package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for the schema
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/store"
)

// database is the fresh database of one run.
type database struct {
	url     string // what store.Open gets
	display string // what the report shows (no credentials)
	sqlite  string // the SQLite file, or ""
	cleanup func()
}

// freshDatabase makes an empty database: a new SQLite file in a temporary
// folder when base is empty, else a new schema on the PostgreSQL server base
// names, used through search_path (as internal/storetest does) and dropped
// by cleanup.
func freshDatabase(ctx context.Context, base string) (database, error) {
	if base == "" {
		dir, err := os.MkdirTemp("", "clinic-loadtest-")
		if err != nil {
			return database{}, err
		}
		path := filepath.Join(dir, "clinic.db")
		return database{url: "sqlite://" + path, display: "sqlite " + path, sqlite: path,
			cleanup: func() { os.RemoveAll(dir) }}, nil
	}
	if strings.HasPrefix(base, "sqlite://") {
		return database{}, fmt.Errorf("-db: give a postgres:// URL, or nothing for a fresh SQLite file")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return database{}, fmt.Errorf("-db: not a postgres:// URL")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "loadtest_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		return database{}, fmt.Errorf("-db: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return database{}, fmt.Errorf("-db: create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	shown := *u
	shown.User = nil
	shown.RawQuery = ""
	return database{url: u.String(), display: "postgres " + shown.String() + " schema " + schema,
		cleanup: func() {
			db, err := sql.Open("pgx", base)
			if err != nil {
				return
			}
			defer db.Close()
			_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
		}}, nil
}

// schemaSize is what the run's PostgreSQL schema takes on disk: its
// tables with their indexes and TOAST.
func (d database) schemaSize(ctx context.Context) (int64, error) {
	db, err := sql.Open("pgx", d.url)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	err = db.QueryRowContext(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n)
	return n, err
}

// scratchRow is a row of the write floor's scratch table.
type scratchRow struct {
	ID      string `gorm:"primaryKey"`
	Payload string
	At      int64
}

func (scratchRow) TableName() string { return "loadtest_scratch" }

// openFloorDB opens a second, plain GORM connection pool on the run's
// database for the write floor, with the store's own connection settings
// (store.OpenPlain), and creates the scratch table.
func openFloorDB(ctx context.Context, d database) (*gorm.DB, error) {
	db, err := store.OpenPlain(d.url)
	if err != nil {
		return nil, fmt.Errorf("write floor: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("write floor: %w", err)
	}
	err = db.WithContext(ctx).Exec(`CREATE TABLE loadtest_scratch (id TEXT PRIMARY KEY, payload TEXT NOT NULL, at BIGINT NOT NULL)`).Error
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("write floor: create scratch table: %w", err)
	}
	return db, nil
}

// dropScratch removes the scratch table and closes the pool.
func dropScratch(db *gorm.DB) {
	_ = db.Exec("DROP TABLE loadtest_scratch").Error
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}
