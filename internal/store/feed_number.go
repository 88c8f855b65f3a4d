package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// feedNumberer runs the feed numberings of one Store on PostgreSQL (see the
// comment at the top of feed.go), each of which also announces the
// availability changes committed (see availability_notice.go: the step
// after commits), one at a time in a goroutine of its own,
// each for every caller that asked before it started: callers that ask
// while one runs share the next. So the numberings of one instance never
// queue for the counter row behind each other, and a burst of commits is
// numbered in a few batches, not one numbering each.
type feedNumberer struct {
	s *Store

	mu      sync.Mutex
	next    *numbering // the numbering asked for and not started yet
	running bool       // the goroutine runs
	closed  bool
	wg      sync.WaitGroup
}

// numbering is one numbering that callers wait for: done is closed when it
// has ended, with err.
type numbering struct {
	done chan struct{}
	err  error
}

// errStoreClosed is what a numbering asked for after Close returns.
var errStoreClosed = errors.New("store: closed")

// ask returns a numbering that starts after the call, starting the
// goroutine when it does not run.
func (n *feedNumberer) ask() *numbering {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		r := &numbering{done: make(chan struct{}), err: errStoreClosed}
		close(r.done)
		return r
	}
	if n.next == nil {
		n.next = &numbering{done: make(chan struct{})}
	}
	r := n.next
	if !n.running {
		n.running = true
		n.wg.Go(n.run)
	}
	return r
}

// run numbers until nobody has asked for more.
func (n *feedNumberer) run() {
	for {
		n.mu.Lock()
		r := n.next
		n.next = nil
		if r == nil {
			n.running = false
			n.mu.Unlock()
			return
		}
		n.mu.Unlock()
		// A numbering is not the caller's: it ends even when the caller
		// has gone, for the others waiting on it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		moved, err := n.s.numberFeedOnce(ctx)
		cancel()
		r.err = err
		close(r.done)
		if err != nil {
			// The rows wait for the next numbering: the next commit's, a
			// reader's, the feed watcher's poll, or the next start.
			n.s.feed.log.Warn("live feed: numbering failed; the events wait for the next one", "error", err.Error())
		}
		if moved > 0 {
			n.s.feed.wake()
		}
	}
}

// close waits for the numbering under way, if any; none starts after it.
func (n *feedNumberer) close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	n.wg.Wait()
}

// numberFeed returns once a numbering that started after the call has
// ended (PostgreSQL; nothing to do on SQLite, which numbers in the writing
// transaction): every feed event committed before the call has its id then.
func (s *Store) numberFeed(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	r := s.numberer.ask()
	select {
	case <-r.done:
		if r.err != nil {
			return fmt.Errorf("number the live feed: %w", r.err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("number the live feed: %w", ctx.Err())
	}
}

// askFeedNumbering asks for a numbering without waiting for it: Store.tx,
// after a commit that appended to the feed or queued availability changes,
// so that the writer's request does not wait for it.
func (s *Store) askFeedNumbering() {
	if s.dialect == Postgres {
		s.numberer.ask()
	}
}

// numberFeedOnce is the step after commits (PostgreSQL): it numbers every
// feed event committed in feed_pending so far and returns how many it
// numbered (it moves them into feed_events with the ids after
// feed_counter's, in seq order, and tells every instance's feed watcher),
// and announces every availability change committed in
// availability_pending (see sendAvailabilityNotices), in one transaction:
// its NOTIFYs, delivered at its commit, take PostgreSQL's notification
// lock once for both.
func (s *Store) numberFeedOnce(ctx context.Context) (int64, error) {
	// Most calls find nothing (a reader's, or a batch someone else
	// numbered): a look at the small tables, without taking the counter.
	var events, changes bool
	if err := s.sqlDB.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM feed_pending), EXISTS (SELECT 1 FROM availability_pending)").Scan(&events, &changes); err != nil {
		return 0, fmt.Errorf("pending events: %w", err)
	}
	if !events && !changes {
		return 0, nil
	}
	// READ COMMITTED, whatever the server's default: each statement after
	// the lock takes a snapshot of its own, which sees the previous
	// numbering's commit (the one it waited for).
	tx, err := s.sqlDB.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	var moved int64
	if events {
		if moved, err = numberPendingEvents(ctx, tx); err != nil {
			return 0, err
		}
	}
	var sent []int64
	var scopes, own []string
	var pid uint32
	if changes {
		if sent, scopes, own, pid, err = s.sendAvailabilityNotices(ctx, tx); err != nil {
			return 0, err
		}
	}
	if moved == 0 && len(sent) == 0 {
		return 0, nil // another instance's step took them since the look
	}
	if moved > 0 {
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, '')", feedChannel); err != nil {
			return 0, fmt.Errorf("notify: %w", err)
		}
	}
	// The listener skips this process's own place changes: told before the
	// commit, so that it knows however soon the notifications arrive; told
	// every scope sent, so that it matches each notification to its step.
	s.avail.expectSent(pid, scopes, own, time.Now())
	if err := tx.Commit(); err != nil {
		s.avail.unexpectSent(pid, scopes)
		return 0, fmt.Errorf("commit: %w", err)
	}
	s.avail.forgetRows(sent)
	return moved, nil
}

// numberPendingEvents, inside the step's transaction tx, moves every feed
// event of feed_pending into feed_events with the ids after feed_counter's,
// in seq order, under the counter's row lock, and returns how many.
func numberPendingEvents(ctx context.Context, tx *sql.Tx) (int64, error) {
	var last int64
	if err := tx.QueryRowContext(ctx, "SELECT last_id FROM feed_counter WHERE id = 1 FOR UPDATE").Scan(&last); err != nil {
		return 0, fmt.Errorf("lock the feed counter: %w", err)
	}
	res, err := tx.ExecContext(ctx, `WITH moved AS (
		DELETE FROM feed_pending RETURNING seq, booking_id, waitlist_entry_id, type, occurred_at, booking)
	INSERT INTO feed_events (id, booking_id, waitlist_entry_id, type, occurred_at, booking)
	SELECT $1 + row_number() OVER (ORDER BY seq), booking_id, waitlist_entry_id, type, occurred_at, booking FROM moved`, last)
	if err != nil {
		return 0, fmt.Errorf("number pending events: %w", err)
	}
	moved, err := res.RowsAffected()
	if err != nil || moved == 0 {
		return 0, err // another instance numbered them since the look
	}
	if _, err := tx.ExecContext(ctx, "UPDATE feed_counter SET last_id = $1 WHERE id = 1", last+moved); err != nil {
		return 0, fmt.Errorf("move the feed counter: %w", err)
	}
	return moved, nil
}
