package store

import (
	"context"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"
	"gorm.io/gorm"
)

// Test hooks for the store_test package.

// SetSlotBooked writes a slot's booked counter directly, standing in for
// bookings in tests of the slot rules.
func SetSlotBooked(ctx context.Context, s *Store, id uuid.UUID, n int) error {
	return s.db.WithContext(ctx).Exec("UPDATE slots SET booked = ? WHERE id = ?", n, id.String()).Error
}

// InsertReleasedBooking inserts a minimal cancelled booking in the slot: a
// booking that no longer occupies it but still refers to it.
func InsertReleasedBooking(ctx context.Context, s *Store, slotID uuid.UUID) error {
	now := time.Now().UTC()
	id := uuid.NewString()
	return s.db.WithContext(ctx).Exec(`INSERT INTO bookings (id, reference, slot_id, status, source,
		patient_first_name, patient_last_name, patient_dob, patient_phone, patient_email, intake,
		consent_privacy, manage_token_hash, slot_start_at, created_at, updated_at)
		VALUES (?, ?, ?, 'cancelled', 'web', 'Ana', 'Lopez', '1980-04-02', '+14245550123', '', '{}',
		TRUE, 'x', 0, ?, ?)`, id, id[:9], slotID.String(), now, now).Error
}

// CountQueries counts every SQL statement s runs from now on (queries,
// raw statements, inserts, updates, deletes), through GORM callbacks.
func CountQueries(s *Store) *atomic.Int64 {
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	cb := s.db.Callback()
	name := "test:count_" + uuid.NewString()
	_ = cb.Query().After("gorm:query").Register(name, count)
	_ = cb.Row().After("gorm:row").Register(name, count)
	_ = cb.Raw().After("gorm:raw").Register(name, count)
	_ = cb.Create().After("gorm:create").Register(name, count)
	_ = cb.Update().After("gorm:update").Register(name, count)
	_ = cb.Delete().After("gorm:delete").Register(name, count)
	return &n
}

// TakePlace takes one place in the slot as a booking would, if one is
// left, and reports whether it did.
func TakePlace(ctx context.Context, s *Store, id uuid.UUID) (bool, error) {
	res := s.db.WithContext(ctx).Exec("UPDATE slots SET booked = booked + 1 WHERE id = ? AND booked < capacity", id.String())
	return res.RowsAffected == 1, res.Error
}

// RedoPatientBackfill forgets every patient record and runs the migration
// that attaches bookings to records again, as it ran on a database whose
// bookings predate records.
func RedoPatientBackfill(ctx context.Context, s *Store) error {
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range []string{"UPDATE bookings SET patient_id = NULL", "DELETE FROM patients"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := backfillPatients(ctx, tx, s.dialect == Postgres); err != nil {
		return err
	}
	if s.dialect == SQLite {
		if err := flushSearchQueue(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// SearchQueued returns how many search documents wait in the SQLite
// search queue (search_queue.go); 0 on PostgreSQL.
func SearchQueued(ctx context.Context, s *Store) (int, error) {
	if s.dialect != SQLite {
		return 0, nil
	}
	var n int
	err := s.sqlDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM search_queue").Scan(&n)
	return n, err
}

// SetWalkBudget sets how many of the newest rows a one-word search on
// PostgreSQL tests before it asks the trigram index, until the test ends.
func SetWalkBudget(t interface{ Cleanup(func()) }, s *Store, n int) {
	old := s.walkBudget
	s.walkBudget = n
	t.Cleanup(func() { s.walkBudget = old })
}

// SearchDocuments returns how many documents the SQLite full-text index
// holds (bookings and patient records together, 00097); 0 on PostgreSQL.
func SearchDocuments(ctx context.Context, s *Store) (int, error) {
	if s.dialect != SQLite {
		return 0, nil
	}
	var n int
	err := s.sqlDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM booking_search").Scan(&n)
	return n, err
}

// MigrateSQLiteDownTo moves the SQLite database at path down to version
// with the store's own migrations, as an operator rolling back would.
func MigrateSQLiteDownTo(ctx context.Context, path string, version int64) error {
	db, err := openSQLiteDB(sqliteDSN(path))
	if err != nil {
		return err
	}
	defer db.Close()
	fsys, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithGoMigrations(goMigrations(false)...))
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}
