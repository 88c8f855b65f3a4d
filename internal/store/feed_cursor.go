package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// FeedFunc acts on feed events a reader has not seen yet, oldest first,
// inside the transaction that moves the reader's cursor past them: what it
// writes through tx commits with the cursor's move or rolls back with it, so
// each event is acted on exactly once, even across crashes. It must only
// write through tx, never open another transaction: on SQLite tx may be
// shared with other calls batched into one commit, each in a savepoint of
// its own (see sqliteWriter).
type FeedFunc func(ctx context.Context, tx *sql.Tx, events []FeedEvent) error

// FollowFeed passes fn the next feed events, up to limit, after where the
// cursor called name stands, and moves the cursor past them. It returns how
// many events it passed (0: none are waiting; limit: there may be more).
// A cursor that does not exist yet is made at the newest event: a new reader
// starts with the changes made from then on, not with the whole history.
//
// Readers of one cursor take turns: a second one waits for the first's
// transaction (the cursor's row is locked by the UPDATE on PostgreSQL; on
// SQLite all writes take turns), then starts after what the first passed.
// Because feed ids increase in commit order (see the top of feed.go), a
// cursor never steps over an event that commits later.
func (s *Store) FollowFeed(ctx context.Context, name string, limit int, fn FeedFunc) (int, error) {
	if limit <= 0 {
		return 0, errors.New("follow feed: limit must be positive")
	}
	// Every event committed so far gets its id first (PostgreSQL; see
	// numberFeed): the events after the cursor include them.
	if err := s.numberFeed(ctx); err != nil {
		return 0, fmt.Errorf("follow feed %q: %w", name, err)
	}
	passed := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		passed = 0
		last, err := lockFeedCursor(tx, name)
		if err != nil {
			return err
		}
		events, err := feedEvents(tx, last, limit)
		if err != nil || len(events) == 0 {
			return err
		}
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return errors.New("the reader is not running in a database transaction")
		}
		if err := fn(tx.Statement.Context, sqlTx, events); err != nil {
			return err
		}
		next := events[len(events)-1].ID
		if err := tx.Exec("UPDATE feed_cursors SET last_id = ? WHERE name = ?", next, name).Error; err != nil {
			return fmt.Errorf("move cursor: %w", err)
		}
		passed = len(events)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("follow feed %q: %w", name, err)
	}
	return passed, nil
}

// FeedCursor returns where the cursor called name stands (the id of the
// last event its reader passed) and the id of the newest feed event; ok is
// false when the cursor does not exist yet.
func (s *Store) FeedCursor(ctx context.Context, name string) (at, newest int64, ok bool, err error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Raw("SELECT last_id FROM feed_cursors WHERE name = ?", name).Scan(&ids).Error; err != nil {
		return 0, 0, false, fmt.Errorf("feed cursor %q: %w", name, err)
	}
	if newest, err = s.LastFeedID(ctx); err != nil {
		return 0, 0, false, err
	}
	if len(ids) == 0 {
		return 0, newest, false, nil
	}
	return ids[0], newest, true, nil
}

// lockFeedCursor returns where cursor name stands, holding its row until
// the transaction ends, and makes it at the newest event if it is missing.
func lockFeedCursor(tx *gorm.DB, name string) (int64, error) {
	for range 2 {
		// An UPDATE that changes nothing still locks the row on PostgreSQL,
		// and RETURNING reads it in the same statement on both databases.
		var ids []int64
		if err := tx.Raw("UPDATE feed_cursors SET last_id = last_id WHERE name = ? RETURNING last_id", name).Scan(&ids).Error; err != nil {
			return 0, fmt.Errorf("cursor: %w", err)
		}
		if len(ids) == 1 {
			return ids[0], nil
		}
		newest, err := lastFeedID(tx)
		if err != nil {
			return 0, err
		}
		if err := tx.Exec("INSERT INTO feed_cursors (name, last_id) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, newest).Error; err != nil {
			return 0, fmt.Errorf("new cursor: %w", err)
		}
	}
	return 0, errors.New("cursor: its row was not made")
}

// feedBatch is how many events ReadFeed and CatchUpFeed pass their reader
// at most in one transaction.
const feedBatch = 500

// CatchUpFeed runs fn, with the cursor called name, over every feed event
// committed so far that the cursor has not passed (FollowFeed, feedBatch at
// a time), and returns once it has passed them all.
func (s *Store) CatchUpFeed(ctx context.Context, name string, fn FeedFunc) error {
	for {
		passed, err := s.FollowFeed(ctx, name, feedBatch, fn)
		if err != nil || passed < feedBatch {
			return err
		}
	}
}

// feedGather is how long ReadFeed lets changes gather after being woken,
// so that one transaction passes several: on SQLite every transaction
// takes a turn of the single writer that booking requests wait for.
const feedGather = 50 * time.Millisecond

// ReadFeed runs fn over the feed with the cursor called name (see
// FollowFeed), as events commit, until ctx ends. Errors are logged and
// retried, backing off up to half a minute: an event is never skipped, so
// a reader that keeps failing holds its cursor where it is (and says so in
// the log) until it succeeds.
func (s *Store) ReadFeed(ctx context.Context, name string, fn FeedFunc, log *slog.Logger) {
	wake, unsubscribe := s.SubscribeFeed()
	defer unsubscribe()
	const firstRetry, lastRetry = 500 * time.Millisecond, 30 * time.Second
	retry := firstRetry
	for ctx.Err() == nil {
		err := s.CatchUpFeed(ctx, name, fn)
		if ctx.Err() != nil {
			return
		}
		pause := feedGather
		if err != nil {
			log.Error("feed reader failed; trying again", "cursor", name, "retry_in", retry, "err", err)
			pause, retry = retry, min(retry*2, lastRetry)
		} else {
			retry = firstRetry
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// QueueDB returns the connection pool a job queue working beside the store
// should use: on SQLite the store's single writer connection, so that the
// queue's own writes take turns with the store's transactions in Go instead
// of contending for the file lock; on PostgreSQL the store's pool.
func (s *Store) QueueDB() *sql.DB { return s.wsqlDB }
