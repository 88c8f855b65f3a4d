package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
)

// The migration that adds the names a booking keeps fills them in for the
// bookings made before it, from their slot's provider, location and
// consultation type.
func TestSnapshotMigrationBackfillsExistingBookings(t *testing.T) {
	ctx, db, p := oldBooking(t, 29)
	if _, err := p.UpTo(ctx, 30); err != nil {
		t.Fatal(err)
	}
	var got [5]string
	err := db.QueryRowContext(ctx, `SELECT provider_name, location_name, location_address, consultation_type_name, timezone FROM bookings WHERE id = 'b1'`).
		Scan(&got[0], &got[1], &got[2], &got[3], &got[4])
	if err != nil {
		t.Fatal(err)
	}
	if want := [5]string{"Dr. Maya Chen", "Downtown office", "100 Main St", "First consultation", "America/Los_Angeles"}; got != want {
		t.Errorf("backfilled names: got %q, want %q", got, want)
	}
}

// oldBooking makes an SQLite database migrated up to version and holds one
// confirmed booking in it, with its slot, provider, location and
// consultation type: a database of an earlier release, for a test of the
// migrations after it. The caller migrates on with the returned provider.
func oldBooking(t *testing.T, version int64) (context.Context, *sql.DB, *goose.Provider) {
	t.Helper()
	ctx := context.Background()
	db, err := openSQLiteDB(sqliteDSN(filepath.Join(t.TempDir(), "old.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fsys, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	const now = "2026-11-20 10:00:00"
	for _, q := range []string{
		`INSERT INTO providers (id, name, created_at, updated_at) VALUES ('p1', 'Dr. Maya Chen', '` + now + `', '` + now + `')`,
		`INSERT INTO locations (id, name, address, timezone, created_at, updated_at) VALUES ('l1', 'Downtown office', '100 Main St', 'America/Los_Angeles', '` + now + `', '` + now + `')`,
		`INSERT INTO consultation_types (id, name, duration_minutes, created_at, updated_at) VALUES ('c1', 'First consultation', 45, '` + now + `', '` + now + `')`,
		`INSERT INTO slots (id, provider_id, location_id, consultation_type_id, start_at, end_at, capacity, booked, status, created_at, updated_at)
		 VALUES ('s1', 'p1', 'l1', 'c1', 1796000000, 1796002700, 1, 1, 'open', '` + now + `', '` + now + `')`,
		`INSERT INTO bookings (id, reference, slot_id, status, source, patient_first_name, patient_last_name, patient_dob, patient_phone,
		 patient_email, intake, consent_privacy, manage_token_hash, slot_start_at, created_at, updated_at)
		 VALUES ('b1', 'AAAA-BBBB', 's1', 'confirmed', 'web', 'Ana', 'Lopez', '1980-04-02', '+14245550123', '', '{}', 1, 'x', 1796000000, '` + now + `', '` + now + `')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return ctx, db, p
}
