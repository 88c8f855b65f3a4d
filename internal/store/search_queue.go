package store

import (
	"context"
	"database/sql"
	"fmt"
)

// On SQLite the triggers of bookings and patients do not write the FTS
// tables themselves: they queue each changed search document in
// search_queue (migration 50), and flushSearchQueue moves the queue into
// booking_search and patient_search as the last statements of the
// transaction. The index still changes in the transaction that changes the
// row, and a search never sees a booking without its document, nor the
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
// them). Then the queue is emptied.
var flushSearchSQL = func() []string {
	var out []string
	for _, t := range []struct{ tbl, fts string }{{"b", "booking_search"}, {"p", "patient_search"}} {
		last := "SELECT MAX(id) FROM search_queue WHERE tbl = '" + t.tbl + "' GROUP BY docid"
		out = append(out,
			"INSERT OR REPLACE INTO "+t.fts+" (docid, doc) SELECT docid, doc FROM search_queue WHERE id IN ("+last+") AND doc IS NOT NULL ORDER BY id",
			"DELETE FROM "+t.fts+" WHERE docid IN (SELECT docid FROM search_queue WHERE id IN ("+last+") AND doc IS NULL)")
	}
	return append(out, "DELETE FROM search_queue")
}()

// flushSearchQueue writes the queued search documents into the FTS tables
// in tx (SQLite only). An empty queue costs one read.
func flushSearchQueue(ctx context.Context, tx *sql.Tx) error {
	var queued int
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM search_queue)").Scan(&queued); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	if queued == 0 {
		return nil
	}
	for _, q := range flushSearchSQL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	return nil
}
