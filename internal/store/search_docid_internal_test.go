package store

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// Since migration 105 the patients insert trigger steps aside for a record
// whose docid the writer wrote first (insertPatientDocid), and does its
// work for any other: both get the next docid of their millisecond, in the
// order they were made, and one map row and one document each. Before 105
// the trigger inserted a second map row for the first record and the
// insert failed.
func TestPatientsInsertTriggerStepsAsideForAMappedRecord(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "docid.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	dob, err := booking.ParseDate("1980-04-02")
	if err != nil {
		t.Fatal(err)
	}
	record := func(first string) patientRow {
		return patientToRow(booking.NewPatientRecord(booking.Patient{FirstName: first, LastName: "Docid", DateOfBirth: dob, Phone: "+14245550123"}, at))
	}
	byTrigger, byWriter, again := record("Trig"), record("Writ"), record("Agan")
	err = s.tx(ctx, func(tx *gorm.DB) error {
		rt, err := rawTxOf(tx)
		if err != nil {
			return err
		}
		insert := func(r patientRow) error {
			_, err := rt.exec(`INSERT INTO patients (id, first_name, last_name, dob, phone, email, email_norm, search_text, merged_into, version, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.ID, r.FirstName, r.LastName, r.DOB, r.Phone, r.Email, r.EmailNorm, r.SearchText, r.MergedInto, r.Version, r.CreatedAt, r.UpdatedAt)
			return err
		}
		if err := insert(byTrigger); err != nil {
			return err
		}
		d, err := insertPatientDocid(rt, byWriter)
		if err != nil {
			return err
		}
		if _, err := rt.exec("INSERT INTO search_queue (docid, doc, ref) VALUES (?, ?, NULL)", d.docid, d.text); err != nil {
			return err
		}
		if err := insert(byWriter); err != nil {
			return err
		}
		return insert(again)
	})
	if err != nil {
		t.Fatalf("insert records: %v", err)
	}
	// The millisecond as the CHECK constraint reads it from the stored
	// time (julianday's rounding: not always at.UnixMilli()).
	var lo int64
	if err := s.sqlDB.QueryRowContext(ctx, "SELECT CAST((julianday(?) - 2440587.5) * 86400000 AS INTEGER) * 1048576", utc(at)).Scan(&lo); err != nil {
		t.Fatal(err)
	}
	rows, err := s.sqlDB.QueryContext(ctx, "SELECT patient_id, docid FROM patient_search_ids ORDER BY docid")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var docids []int64
	for rows.Next() {
		var id string
		var docid int64
		if err := rows.Scan(&id, &docid); err != nil {
			t.Fatal(err)
		}
		got, docids = append(got, id), append(docids, docid)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{byTrigger.ID, byWriter.ID, again.ID}; !slices.Equal(got, want) {
		t.Errorf("map rows in docid order: got %v, want %v", got, want)
	}
	if want := []int64{lo, lo + 1, lo + 2}; !slices.Equal(docids, want) {
		t.Errorf("docids: got %v, want %v (the next of the millisecond, in creation order)", docids, want)
	}
	for _, r := range []patientRow{byTrigger, byWriter, again} {
		var n int
		if err := s.sqlDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM booking_search WHERE booking_search MATCH ?", r.FirstName).Scan(&n); err != nil || n != 1 {
			t.Errorf("documents matching %q: got %d (%v), want 1", r.FirstName, n, err)
		}
	}
}
