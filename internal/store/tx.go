package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// tx runs fn in one transaction: every write of the store goes through it,
// and what a commit does besides fn's own statements is listed here, step
// by step, in the order it happens.
//
// On SQLite the transaction holds the write lock from its start (see
// sqliteDSN), so a read-check-write inside fn cannot interleave with another
// writer; calls that wait for the writer at the same time share one
// transaction, each in a savepoint of its own, and return once it has
// committed (see sqliteWriter). fn must not call tx again.
//
// A transaction that wrote to the tables availability is read from moves
// the AvailabilityVersion of the scopes it wrote once it has ended (see
// availabilityVersion).
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	// Refuse nesting: a second transaction would wait for the first's writer
	// (SQLite) or commit apart from it.
	if _, nested := ctx.Value(txMarkKey{}).(*txMark); nested {
		return errors.New("store: a transaction inside a transaction")
	}
	// Mark the transaction: fn's writes to availabilityTables set it dirty
	// through the GORM callback onWrite (registerAvailabilityCallbacks),
	// appendFeed queues feed events on it, InvalidateAvailability names
	// providers on it.
	m := &txMark{}
	ctx = withTxMark(ctx, m)

	// work is the part inside the transaction, before its commit.
	work := func(tx *gorm.DB) error {
		m.pendingFeed = nil // a call run again starts afresh
		m.invalidated = nil
		// The caller's statements.
		if err := fn(tx); err != nil {
			return err
		}
		// Flush feed events: written last; on SQLite numbered too (the
		// counter row is the single writer's), on PostgreSQL queued in
		// feed_pending for the numbering after the commit.
		if err := flushFeed(tx, m); err != nil {
			return err
		}
		// Flush availability marks: record the providers
		// InvalidateAvailability named and, on PostgreSQL, read the scopes
		// the triggers recorded, which the commit forgets.
		return s.flushAvailability(tx, m)
	}

	var err error
	if s.writer != nil {
		// SQLite: begin (BEGIN IMMEDIATE, in a savepoint of a group-commit
		// batch), work, then queue search documents into the FTS tables
		// (flushSearchQueue, the writer's beforeCommit, once per batch, so
		// FTS4 writes one segment per commit), and commit the batch.
		err = s.writer.run(ctx, func(sqlTx *sql.Tx) error {
			// Once started, a call runs to its end: an interrupted
			// statement would fail the others of the batch.
			tx := s.wdb.WithContext(context.WithoutCancel(ctx))
			tx.Statement.ConnPool = sqlTx
			return work(tx)
		})
	} else {
		// PostgreSQL: begin, work, commit (its triggers keep the search
		// index themselves: no queue to flush).
		err = s.wdb.WithContext(ctx).Transaction(work)
	}

	// End the availability mark: bump the versions of the scopes written
	// and read the places changed, after the commit (or the rollback), so a
	// version never runs ahead of what a reader can see.
	s.endAvailability(m, err == nil)
	// Feed and availability notices: on PostgreSQL, ask for the step that
	// numbers the feed events just committed and announces the
	// availability changes queued (without waiting: it wakes this
	// process's feed followers, and its NOTIFYs the other instances', once
	// done); on SQLite, wake feed followers of this process at once (other
	// processes poll).
	switch {
	case err != nil:
	case s.dialect == Postgres && (m.feed.Load() || m.dirty.Load()):
		s.askFeedNumbering()
	case s.dialect != Postgres && m.feed.Load():
		s.feed.wake()
	}
	return err
}

// txMark is the context value Store.tx sets: whether the transaction wrote
// to availabilityTables.
type txMark struct {
	dirty atomic.Bool
	feed  atomic.Bool // appended to the live feed (see flushFeed)

	// invalidated are the providers InvalidateAvailability named in the
	// transaction; scopes, on PostgreSQL, the scopes the triggers recorded,
	// read before the commit (scopesErr when that failed). See
	// Store.endAvailability.
	invalidated []uuid.UUID
	scopes      []string
	scopesErr   error
	// queued are the seqs of the rows the transaction queued in
	// availability_pending (PostgreSQL), which the step after its commit
	// announces (see availability_notice.go); this process's own, for its
	// listener.
	queued []int64

	mu          sync.Mutex
	pendingFeed []feedEventRow // feed events waiting for their ids (see appendFeed)
}

type txMarkKey struct{}

func withTxMark(ctx context.Context, m *txMark) context.Context {
	return context.WithValue(ctx, txMarkKey{}, m)
}
