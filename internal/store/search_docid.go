package store

import (
	"fmt"
	"strings"
)

// On SQLite the insert triggers of bookings and patients give a new row its
// search docid and queue its document (00097_one_search_document.sql). For
// a booking the trigger's docid takes four subqueries (the record's docid
// when the patient record was made with the booking, else the next docid
// of the millisecond in either map table) and its queue row a three-table
// join, about half of the bookings INSERT, which is the largest statement
// of the SQLite writer's booking (BENCHMARKS.md, "SQLite write path: fewer
// statements per booking"). createBooking knows what the trigger works
// out: whether it has just made the patient record, with which words. So on
// SQLite it writes the map rows and one queue row itself, before the rows
// (migration 105 makes the insert triggers step aside for a row whose map
// row exists), with the same docids, the same document and the same rule
// of one shared document:
//
//   - a new record gets the next docid of its millisecond (one statement,
//     the trigger's own first one);
//   - the booking made with it shares that docid when its words are the
//     record's plus the reference (the trigger's condition; the record is
//     new, so no booking has its docid, and it was made in the booking's
//     millisecond, from the booking's creation time), and the document is
//     queued once, split in doc and ref;
//   - otherwise the booking gets the next docid of its millisecond, and
//     each document is queued as its own.
//
// Docids stay creation order (00043): the next docid of a millisecond is
// computed by the database from the stored creation time, by the
// expression of the CHECK constraint, in the writer's transaction.

// nextDocidSQL inserts a map row (%s: booking_search_ids and booking_id, or
// patient_search_ids and patient_id) with the next docid of its creation
// time's millisecond in either map table, and returns the docid.
const nextDocidSQL = `INSERT INTO %s (docid, %s, created_at)
SELECT max(coalesce((SELECT max(docid) + 1 FROM booking_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo),
           coalesce((SELECT max(docid) + 1 FROM patient_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo)), ?, ?
FROM (SELECT CAST((julianday(?) - 2440587.5) * 86400000 AS INTEGER) * 1048576 AS lo) k
RETURNING docid`

var (
	nextBookingDocidSQL = fmt.Sprintf(nextDocidSQL, "booking_search_ids", "booking_id")
	nextPatientDocidSQL = fmt.Sprintf(nextDocidSQL, "patient_search_ids", "patient_id")
)

// newDoc is a search document written by createBooking on SQLite: a new
// patient record's, before the booking decides whether it shares it.
type newDoc struct {
	docid int64
	text  string // the record's search_text
}

// insertPatientDocid gives the new patient record r its docid (SQLite), to
// be inserted right after: its insert trigger then leaves the record alone.
func insertPatientDocid(rt rawTx, r patientRow) (newDoc, error) {
	d := newDoc{text: r.SearchText}
	if err := rt.queryRow(nextPatientDocidSQL, []any{r.ID, r.CreatedAt, r.CreatedAt}, &d.docid); err != nil {
		return newDoc{}, fmt.Errorf("patient search docid: %w", err)
	}
	return d, nil
}

// insertBookingDocid gives the new booking row r its docid and queues its
// search document, and that of the record made with it (rec, when not
// nil), on SQLite, before r is inserted: its insert trigger then leaves it
// alone. See the top of this file.
func insertBookingDocid(rt rawTx, r bookingRow, rec *newDoc) error {
	ref := sqliteLower(r.Reference) + " " + sqliteLower(strings.ReplaceAll(r.Reference, "-", ""))
	if rec != nil && rec.text == strings.ReplaceAll(r.SearchText, " "+ref, "") {
		if _, err := rt.exec("INSERT INTO booking_search_ids (docid, booking_id, created_at) VALUES (?, ?, ?)", rec.docid, r.ID, r.CreatedAt); err != nil {
			return fmt.Errorf("booking search docid: %w", err)
		}
		if _, err := rt.exec("INSERT INTO search_queue (docid, doc, ref) VALUES (?, ?, ?)", rec.docid, rec.text, ref); err != nil {
			return fmt.Errorf("queue search document: %w", err)
		}
		return nil
	}
	var docid int64
	if err := rt.queryRow(nextBookingDocidSQL, []any{r.ID, r.CreatedAt, r.CreatedAt}, &docid); err != nil {
		return fmt.Errorf("booking search docid: %w", err)
	}
	if rec == nil {
		if _, err := rt.exec("INSERT INTO search_queue (docid, doc, ref) VALUES (?, ?, NULL)", docid, r.SearchText); err != nil {
			return fmt.Errorf("queue search document: %w", err)
		}
		return nil
	}
	if _, err := rt.exec("INSERT INTO search_queue (docid, doc, ref) VALUES (?, ?, NULL), (?, ?, NULL)", rec.docid, rec.text, docid, r.SearchText); err != nil {
		return fmt.Errorf("queue search documents: %w", err)
	}
	return nil
}

// sqliteLower is SQLite's lower(): ASCII letters only.
func sqliteLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
