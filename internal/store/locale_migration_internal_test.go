package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
)

// Bookings made before languages were recorded were made in English: the
// migration that adds the column gives them "en", and the catalogue's
// entries no translations and no contact details.
func TestLocaleMigrationGivesExistingRowsEnglish(t *testing.T) {
	ctx := context.Background()
	db, err := openSQLiteDB(sqliteDSN(filepath.Join(t.TempDir(), "old.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fsys, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 80); err != nil {
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
	if _, err := p.UpTo(ctx, 81); err != nil {
		t.Fatal(err)
	}
	var locale, typeTr, locTr, phone, hours string
	if err := db.QueryRowContext(ctx, `SELECT locale FROM bookings WHERE id = 'b1'`).Scan(&locale); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT translations FROM consultation_types WHERE id = 'c1'`).Scan(&typeTr); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT translations, phone, opening_hours FROM locations WHERE id = 'l1'`).Scan(&locTr, &phone, &hours); err != nil {
		t.Fatal(err)
	}
	if got, want := [5]string{locale, typeTr, locTr, phone, hours}, [5]string{"en", "{}", "{}", "", ""}; got != want {
		t.Errorf("after 00081: got %q, want %q", got, want)
	}
	// And down again: the columns go.
	if _, err := p.DownTo(ctx, 80); err != nil {
		t.Fatalf("down: %v", err)
	}
}
