package store

import (
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// pagePatientColumns are the columns readPatients reads, in the order of
// patientRow.dest: all but the search document, the longest text of a
// record, which nothing after the match reads.
const pagePatientColumns = "id, first_name, last_name, dob, phone, email, email_norm, merged_into, version, created_at, updated_at"

// dest is where a row of pagePatientColumns is scanned.
func (r *patientRow) dest() []any {
	return []any{&r.ID, &r.FirstName, &r.LastName, &r.DOB, &r.Phone, &r.Email, &r.EmailNorm, &r.MergedInto,
		&r.Version, &r.CreatedAt, &r.UpdatedAt}
}

// readPatients reads the patient records that the condition where (with
// args; a subquery of ids is fine) selects, newest first (created_at DESC,
// id DESC, the patient lists' order), scanned with database/sql: a search's
// page is a handful of records found by id, and GORM's reflection over
// them cost about as much as finding them (see BENCHMARKS.md).
func readPatients(db *gorm.DB, where string, args ...any) ([]patientRow, error) {
	res, err := db.Raw("SELECT "+packed(db, pagePatientColumns)+" FROM patients WHERE "+where, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("read patients: %w", err)
	}
	defer res.Close()
	rows := make([]patientRow, 0, pageRoom)
	for res.Next() {
		rows = append(rows, patientRow{})
		if err := scanRow(db, res, rows[len(rows)-1].dest()); err != nil {
			return nil, fmt.Errorf("read patients: %w", err)
		}
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("read patients: %w", err)
	}
	sortPatients(rows)
	return rows, nil
}

// sortPatients puts rows in the patient lists' order.
func sortPatients(rows []patientRow) {
	slices.SortFunc(rows, func(a, b patientRow) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}
