package store

import (
	"context"
	"database/sql"
	"fmt"
)

// On SQLite the triggers of bookings and patients do not write the FTS
// tables themselves: they queue each changed search document in
// search_queue (migration 50), and flushSearchQueue moves the queue into
// booking_search (which holds the patient records' documents too, migration
// 97) as the last statements of the transaction. The index still changes
// in the transaction that changes the row, and a search never sees a booking without its document, nor the
// reverse; but FTS4 now writes one segment per index per transaction, where
// it wrote one for every document: it flushes its pending documents into a
// new segment whenever a statement or a savepoint begins, and a booking
// transaction has several of both (each call of a group commit runs in a
// savepoint; see sqliteWriter). The segments, and the merges they caused,
// were most of a booking's commit.
//
// Every write transaction on SQLite goes through the writer, which calls
// flushSearchQueue before each commit; so does SeedBookings before it
// merges the index. A migration that changes search_text must end with the
// same statements (see the migration's comment), and Open flushes whatever
// a migration left queued.

// flushSearchSQL applies the queue, for each document the last change
// queued: the document as it is now (INSERT OR REPLACE: a new docid is
// inserted, a known one rewritten), or its removal (a NULL doc). Documents
// go in queue order, which for new rows is nearly docid order (docids
// follow creation times; see migration 00043), as FTS4 keeps pending
// documents best, with no sort (a batch load queues a hundred thousand of
// them). Then the queue is emptied. Bookings and patient records share one
// index (migration 00097), so the last change of a docid is the last
// whichever row queued it: a new record's document, then its first
// booking's with the reference added.
var flushSearchSQL = func() []string {
	const last = "SELECT MAX(id) FROM search_queue GROUP BY docid"
	return []string{
		"INSERT OR REPLACE INTO booking_search (docid, doc, ref) SELECT docid, doc, ref FROM search_queue WHERE id IN (" + last + ") AND doc IS NOT NULL ORDER BY id",
		"DELETE FROM booking_search WHERE docid IN (SELECT docid FROM search_queue WHERE id IN (" + last + ") AND doc IS NULL)",
		"DELETE FROM search_queue",
	}
}()

// flushSearchQueue writes the queued search documents into the FTS tables
// in tx (SQLite only). An empty queue costs one read.
func flushSearchQueue(ctx context.Context, tx *sql.Tx) error {
	return flushSearch(ctx, tx, false)
}

// flushSearch is flushSearchQueue; with queued (a call of the batch queued
// a document itself: see Store.searchQueued) it skips the read that asks
// whether there is anything to write. Should that call have been rolled
// back, the statements run on an empty queue and change nothing.
func flushSearch(ctx context.Context, tx *sql.Tx, queued bool) error {
	if !queued {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM search_queue)").Scan(&n); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
	for _, q := range flushSearchSQL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	return nil
}

// shareSearchSQL gives a booking and the patient record made with it one
// search document where they still have two: the record takes the
// booking's docid when it was made in the booking's millisecond with the
// booking's words (its search_text is the booking's without the
// reference), when neither shares a document yet; its own document goes,
// and the booking's is queued again split in doc and ref (see
// 00097_one_search_document.sql, whose triggers do the same for a booking
// made with its record).
var shareSearchSQL = []string{
	`CREATE TEMP TABLE search_share AS
SELECT pm.docid AS old, min(bm.docid) AS new
FROM patient_search_ids pm JOIN patients p ON p.id = pm.patient_id
JOIN bookings b ON b.patient_id = p.id JOIN booking_search_ids bm ON bm.booking_id = b.id
WHERE bm.docid >> 20 = pm.docid >> 20 AND bm.docid <> pm.docid
  AND p.search_text = replace(b.search_text, ' ' || lower(b.reference) || ' ' || lower(replace(b.reference, '-', '')), '')
  AND NOT EXISTS (SELECT 1 FROM patient_search_ids x WHERE x.docid = bm.docid)
  AND NOT EXISTS (SELECT 1 FROM booking_search_ids x WHERE x.docid = pm.docid)
GROUP BY pm.docid`,
	"INSERT INTO search_queue (docid, doc, ref) SELECT old, NULL, NULL FROM search_share ORDER BY old",
	"UPDATE patient_search_ids SET docid = (SELECT new FROM search_share WHERE old = patient_search_ids.docid) WHERE docid IN (SELECT old FROM search_share)",
	`INSERT INTO search_queue (docid, doc, ref)
SELECT s.new, p.search_text, lower(b.reference) || ' ' || lower(replace(b.reference, '-', ''))
FROM search_share s JOIN patient_search_ids m ON m.docid = s.new JOIN patients p ON p.id = m.patient_id
JOIN booking_search_ids bm ON bm.docid = s.new JOIN bookings b ON b.id = bm.booking_id
ORDER BY s.new`,
	"DROP TABLE search_share",
}

// shareSearchDocs runs shareSearchSQL in tx (SQLite only): migration 98
// for the bookings made before one document was shared, and SeedBookings,
// which attaches its bookings to records after inserting them.
func shareSearchDocs(ctx context.Context, tx *sql.Tx) error {
	for _, q := range shareSearchSQL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("share search documents: %w", err)
		}
	}
	return nil
}
