package store

import (
	"context"
	"database/sql"
	"fmt"
)

// refoldSearchDocs is migration 102, on both databases: the search
// documents of the bookings and patient records whose names or email hold
// anything but ASCII letters, digits, spaces, '.' and '@' (an apostrophe,
// a hyphen, an accent) are written again with their folded forms
// (searchDoc, foldedForms); every other document is unchanged, as the
// filter (plainWord's, in SQL) leaves it out. On SQLite the triggers queue
// the new documents, and a booking and the record made with it that
// shared one (00097_one_search_document.sql) each move to a docid of
// their own when their words change: shareSearchDocs joins them again, and
// the queue is written into the index before the migration commits.
//
// Going down leaves the documents as they are: an older server's searches
// only find the folded words besides.
func refoldSearchDocs(ctx context.Context, tx *sql.Tx, postgres bool) error {
	notPlain := "GLOB '*[^a-zA-Z0-9 .@]*'"
	if postgres {
		notPlain = "~ '[^a-zA-Z0-9 .@]'"
	}
	n, err := refoldTable(ctx, tx, postgres, "bookings",
		"SELECT id, patient_first_name, patient_last_name, patient_email, reference, patient_phone, search_text FROM bookings WHERE patient_first_name || patient_last_name || patient_email "+notPlain)
	if err != nil {
		return err
	}
	m, err := refoldTable(ctx, tx, postgres, "patients",
		"SELECT id, first_name, last_name, email, '', phone, search_text FROM patients WHERE first_name || last_name || email "+notPlain)
	if err != nil {
		return err
	}
	if postgres || n+m == 0 {
		return nil
	}
	if err := shareSearchDocs(ctx, tx); err != nil {
		return fmt.Errorf("refold search documents: %w", err)
	}
	if err := flushSearchQueue(ctx, tx); err != nil {
		return fmt.Errorf("refold search documents: %w", err)
	}
	return nil
}

// refoldTable writes again the search documents of the rows of table that
// query selects (id, first and last name, email, reference, phone, search
// document) where searchDoc now makes another, and returns how many it
// wrote.
func refoldTable(ctx context.Context, tx *sql.Tx, postgres bool, table, query string) (int, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return 0, fmt.Errorf("refold search documents of %s: %w", table, err)
	}
	type doc struct{ id, text string }
	var redo []doc
	for rows.Next() {
		var id, first, last, email, ref, phone, old string
		if err := rows.Scan(&id, &first, &last, &email, &ref, &phone, &old); err != nil {
			rows.Close()
			return 0, fmt.Errorf("refold search documents of %s: %w", table, err)
		}
		if text := searchDoc([]string{first, last, email}, ref, phone); text != old {
			redo = append(redo, doc{id, text})
		}
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("refold search documents of %s: %w", table, err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("refold search documents of %s: %w", table, err)
	}
	update, err := tx.PrepareContext(ctx, bindFor(postgres)("UPDATE "+table+" SET search_text = ? WHERE id = ?"))
	if err != nil {
		return 0, fmt.Errorf("refold search documents of %s: %w", table, err)
	}
	defer update.Close()
	for _, d := range redo {
		if _, err := update.ExecContext(ctx, d.text, d.id); err != nil {
			return 0, fmt.Errorf("refold search documents of %s: %w", table, err)
		}
	}
	return len(redo), nil
}
