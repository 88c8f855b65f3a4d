package store

import (
	"context"
	"fmt"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// queueLockID is the PostgreSQL advisory lock instances take, per schema,
// while they bring the job queue's tables up to date.
const queueLockID = 0x71756575 // "queu"

// migrateQueue creates or updates the tables of the job queue (River) that
// delivers the messages booking changes cause (see package delivery). River
// keeps its own schema version in river_migration; its migrations run here,
// after the store's own, one instance at a time: on
// PostgreSQL under an advisory lock, on SQLite inside one write transaction
// (and the file lock Open holds).
func (s *Store) migrateQueue(ctx context.Context) error {
	switch s.dialect {
	case SQLite:
		tx, err := s.wsqlDB.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see sqliteDSN)
		if err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
		defer tx.Rollback()
		m, err := rivermigrate.New(riversqlite.New(s.wsqlDB), nil)
		if err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
		// MigrateTx is deprecated because some of River's PostgreSQL
		// migrations cannot share a transaction; its SQLite ones can, and
		// here they must, inside the writer's one transaction.
		//lint:ignore SA1019 River's SQLite migrations run in one transaction on purpose (above)
		if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
	case Postgres:
		// River's PostgreSQL migrations cannot all run in one transaction
		// (one adds an enum value another then uses), so the instances take
		// turns under a session lock held on a connection of its own while
		// River applies them, each in a transaction.
		conn, err := s.sqlDB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1, hashtext(current_schema()))", queueLockID); err != nil {
			return fmt.Errorf("migrate queue: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1, hashtext(current_schema()))", queueLockID)
		m, err := rivermigrate.New(riverdatabasesql.New(s.sqlDB), nil)
		if err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("migrate queue: %w", err)
		}
	}
	return nil
}
