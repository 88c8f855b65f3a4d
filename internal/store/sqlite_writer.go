package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// sqliteWriter runs the store's transactions on SQLite (Store.tx) with
// group commit.
//
// SQLite lets one transaction write at a time, and a commit costs about as
// much as the rest of a booking transaction (it appends every page the
// transaction changed to the write-ahead log). So instead of one database
// transaction per call, the calls waiting for the writer connection are run
// one after another inside one transaction, each in a SAVEPOINT of its own,
// and committed together:
//
//   - a call that fails is rolled back to its savepoint, alone: it changes
//     nothing, and the others are not affected;
//   - a call sees the changes of the calls before it in the batch, as it
//     would had they committed one by one before it; each call's rules are
//     checked by the database exactly as before (the conditional UPDATE that
//     takes a place sees the places taken earlier in the batch);
//   - no call returns before the batch has committed, so a caller never
//     acts on a change that is not durable; if the commit fails, every call
//     of the batch fails.
//
// Whoever finds the writer free leads: it runs batches of the queued calls
// (its own among them) until the queue is empty. The others wait for their
// call to be done, or for the lead. With one caller at a time a batch is
// one call: the same transaction as before, plus a savepoint.
type sqliteWriter struct {
	db *sql.DB // the writer pool: one connection
	// beforeCommit runs in each batch's transaction after its calls, just
	// before the commit (the store writes its queued search documents
	// there); an error fails the whole batch. Nil runs nothing.
	beforeCommit func(context.Context, *sql.Tx) error
	mu           sync.Mutex
	queue        []*writeJob
	lead         chan struct{} // holds one token while a goroutine leads
}

// maxBatch bounds the calls committed together, and so how long the first
// of them waits for the last.
const maxBatch = 32

// writeJob is one call of Store.tx.
type writeJob struct {
	ctx      context.Context
	fn       func(*sql.Tx) error
	err      error
	panicked any
	done     chan struct{}
}

func newSQLiteWriter(db *sql.DB) *sqliteWriter {
	return &sqliteWriter{db: db, lead: make(chan struct{}, 1)}
}

// run runs fn in a transaction, with others, and returns its error once the
// transaction has committed (or failed). A panic in fn is raised again here.
// When ctx ends while the call is still queued it returns ctx's error and fn
// never runs; once fn has started it runs to its end.
func (w *sqliteWriter) run(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan struct{})}
	w.mu.Lock()
	w.queue = append(w.queue, j)
	w.mu.Unlock()
	for {
		select {
		case <-j.done:
			if j.panicked != nil {
				panic(j.panicked)
			}
			return j.err
		case w.lead <- struct{}{}:
			w.drain()
			<-w.lead
		case <-ctx.Done():
			if w.unqueue(j) {
				return ctx.Err()
			}
			<-j.done // already running: its outcome is the answer
			if j.panicked != nil {
				panic(j.panicked)
			}
			return j.err
		}
	}
}

// unqueue removes j from the queue and reports whether it was still there.
func (w *sqliteWriter) unqueue(j *writeJob) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, q := range w.queue {
		if q == j {
			w.queue = append(w.queue[:i:i], w.queue[i+1:]...)
			return true
		}
	}
	return false
}

// drain runs batches until the queue is empty.
func (w *sqliteWriter) drain() {
	for {
		w.mu.Lock()
		n := min(len(w.queue), maxBatch)
		batch := make([]*writeJob, n)
		copy(batch, w.queue)
		w.queue = append(w.queue[:0:0], w.queue[n:]...)
		w.mu.Unlock()
		if n == 0 {
			return
		}
		w.runBatch(batch)
	}
}

// runBatch runs the jobs in one transaction, each in a savepoint, commits,
// and marks them done.
func (w *sqliteWriter) runBatch(batch []*writeJob) {
	defer func() {
		for _, j := range batch {
			close(j.done)
		}
	}()
	failAll := func(err error) {
		for _, j := range batch {
			if j.err == nil && j.panicked == nil {
				j.err = err
			}
		}
	}
	tx, err := w.db.BeginTx(context.Background(), nil) // BEGIN IMMEDIATE (see sqliteDSN)
	if err != nil {
		failAll(fmt.Errorf("begin: %w", err))
		return
	}
	if len(batch) == 1 {
		// Alone: the transaction is the call's, no savepoint needed.
		j := batch[0]
		if j.err = j.ctx.Err(); j.err == nil {
			j.panicked, j.err = call(j.fn, tx)
		}
		if j.err != nil {
			_ = tx.Rollback()
			return
		}
		if err := w.finish(tx); err != nil {
			j.err = err
		}
		return
	}
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.err = err
			continue
		}
		if _, err := tx.Exec("SAVEPOINT job"); err != nil {
			_ = tx.Rollback()
			failAll(fmt.Errorf("savepoint: %w", err))
			return
		}
		j.panicked, j.err = call(j.fn, tx)
		if j.err != nil || j.panicked != nil {
			if _, err := tx.Exec("ROLLBACK TO job"); err != nil {
				// SQLite rolled the whole transaction back (an I/O error,
				// say): nothing of the batch stands.
				_ = tx.Rollback()
				failAll(fmt.Errorf("roll back to savepoint: %w", err))
				return
			}
		}
		if _, err := tx.Exec("RELEASE job"); err != nil {
			_ = tx.Rollback()
			failAll(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if err := w.finish(tx); err != nil {
		failAll(err)
	}
}

// finish runs beforeCommit and commits tx, or rolls it back when
// beforeCommit fails.
func (w *sqliteWriter) finish(tx *sql.Tx) error {
	if w.beforeCommit != nil {
		if err := w.beforeCommit(context.Background(), tx); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("before commit: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// call runs fn, turning a panic into a value to raise in the caller's
// goroutine.
func call(fn func(*sql.Tx) error, tx *sql.Tx) (panicked any, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
			if err == nil {
				err = errors.New("panic in transaction")
			}
		}
	}()
	return nil, fn(tx)
}
