package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// availabilityChannel is the PostgreSQL NOTIFY channel on which every
// instance announces a committed write to availabilityTables.
const availabilityChannel = "clinic_availability"

// sqliteWatch sees which scopes commits to the SQLite file changed, this
// process's and other processes' (a second server instance, a maintenance
// script): the triggers of migration 00070 log every change to
// availabilityTables in availability_changes, numbered, and the watch, on a
// connection of its own that never writes, moves the versions of the scopes
// logged since the largest number it saw (all of them, should the log have
// been pruned of changes it had not read). To look only when something was
// committed, it first reads PRAGMA data_version, which changes whenever any
// other connection has committed (some 15 microseconds).
//
// A reader asks at most once every watchEvery (check): a cached answer
// outlives another process's commit by at most that long. This process's
// own writes ask at once, after their commit and before they return (sync),
// so they are seen with no delay, and only once.
type sqliteWatch struct {
	mu      sync.Mutex
	db      *sql.DB
	conn    *sql.Conn
	stmt    *sql.Stmt // PRAGMA data_version
	changes *sql.Stmt // the changes since a number, prepared once the table exists
	first   *sql.Stmt // the largest number
	last    int64     // data_version at the last look; -1 before the first
	seq     int64     // the largest change number seen
	// readAt is when the last look that succeeded began, in Unix
	// nanoseconds; 0 after a failed one. Readers check it without the lock.
	readAt atomic.Int64
}

// watchEvery is how often a reader makes sqliteWatch look, at most.
const watchEvery = time.Millisecond

func openSQLiteWatch(ctx context.Context, dsn string) (*sqliteWatch, error) {
	db, err := openSQLiteDB(dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	w := &sqliteWatch{db: db}
	if w.conn, err = db.Conn(ctx); err == nil {
		w.stmt, err = w.conn.PrepareContext(ctx, "PRAGMA data_version")
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("watch commits: %w", err)
	}
	// The first look (once the migrations have run) takes the counters as
	// they are: nothing is cached before it.
	w.last = -1
	return w, nil
}

// check looks for changes when the last look is watchEvery old, and reports
// whether it could tell. Most calls only read the time of the last look.
func (w *sqliteWatch) check(v *availabilityVersion) bool {
	fresh := func(now int64) bool {
		at := w.readAt.Load()
		return at != 0 && now-at < int64(watchEvery)
	}
	if fresh(time.Now().UnixNano()) {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now().UnixNano()
	if fresh(now) {
		return true // looked while this call waited for the lock
	}
	if err := w.look(v); err != nil {
		w.readAt.Store(0)
		return false
	}
	w.readAt.Store(now)
	return true
}

// sync looks for changes now: after this process's own commits. Should the
// look fail, it moves every version instead.
func (w *sqliteWatch) sync(v *availabilityVersion) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now().UnixNano()
	if err := w.look(v); err != nil {
		w.readAt.Store(0)
		v.bump()
		return
	}
	w.readAt.Store(now)
}

// look moves the versions of the scopes changed since the last look, if
// anything was committed since; w.mu is held.
func (w *sqliteWatch) look(v *availabilityVersion) error {
	ctx := context.Background()
	var dv int64
	if err := w.stmt.QueryRowContext(ctx).Scan(&dv); err != nil {
		return fmt.Errorf("read data_version: %w", err)
	}
	if dv == w.last {
		return nil
	}
	if w.changes == nil {
		first, err := w.conn.PrepareContext(ctx, "SELECT coalesce(max(seq), 0) FROM availability_changes")
		if err != nil {
			return fmt.Errorf("watch availability changes: %w", err)
		}
		changes, err := w.conn.PrepareContext(ctx, "SELECT seq, scope FROM availability_changes WHERE seq > ? ORDER BY seq")
		if err != nil {
			first.Close()
			return fmt.Errorf("watch availability changes: %w", err)
		}
		w.first, w.changes = first, changes
	}
	if w.last == -1 {
		// The first look: anything may have changed before it.
		if err := w.first.QueryRowContext(ctx).Scan(&w.seq); err != nil {
			return fmt.Errorf("read availability changes: %w", err)
		}
		v.bump()
		w.last = dv
		return nil
	}
	rows, err := w.changes.QueryContext(ctx, w.seq)
	if err != nil {
		return fmt.Errorf("read availability changes: %w", err)
	}
	defer rows.Close()
	// Place changes are read after the log, on the same connection, and
	// handed on together (see OnPlaces).
	sinks := v.hasSinks()
	var places []placeScope
	for rows.Next() {
		var scope string
		var seq int64
		if err := rows.Scan(&seq, &scope); err != nil {
			return fmt.Errorf("read availability changes: %w", err)
		}
		if seq != w.seq+1 {
			// Pruned before this watch read them (it was idle long), or
			// numbered some other way: anything may have changed.
			v.bump()
		}
		if p, ok := parsePlaceScope(scope); ok && sinks {
			places = append(places, p)
		} else {
			v.bumpScope(scope)
		}
		w.seq = seq
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read availability changes: %w", err)
	}
	rows.Close()
	w.last = dv
	v.places(places, w.readPlaces)
	return nil
}

// readPlaces reads slots' places on the watch's connection, which has just
// read the log: what it reads is no older than the changes it names.
func (w *sqliteWatch) readPlaces(now time.Time, ids []string) ([]SlotPlaces, error) {
	return readSlotPlaces(now, func(q string, args ...any) (*sql.Rows, error) {
		return w.conn.QueryContext(context.Background(), q, args...)
	}, ids)
}

func (w *sqliteWatch) close() {
	if w == nil {
		return
	}
	if w.stmt != nil {
		w.stmt.Close()
	}
	if w.changes != nil {
		w.changes.Close()
	}
	if w.first != nil {
		w.first.Close()
	}
	if w.conn != nil {
		w.conn.Close()
	}
	w.db.Close()
}

// start runs the listener until stop.
func (v *availabilityVersion) start() {
	ctx, cancel := context.WithCancel(context.Background())
	v.stop = cancel
	v.done = make(chan struct{})
	go func() {
		defer close(v.done)
		for ctx.Err() == nil {
			err := v.listen(ctx)
			v.listening.Store(false)
			if ctx.Err() != nil {
				return
			}
			v.log.Warn("availability listener disconnected; availability is not cached until it reconnects", "error", err.Error())
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
}

// listen holds one LISTEN connection: it bumps the counter once connected
// (anything may have changed while it was not) and on every notification,
// and returns when the connection fails.
func (v *availabilityVersion) listen(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, v.pgURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+availabilityChannel); err != nil {
		return err
	}
	// What was expected before this connection listened may never come;
	// the bump below stands for it.
	v.forgetOwn()
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	v.bump()
	v.listening.Store(true)
	poll := time.Now().Add(pendingPoll)
	for {
		wctx, cancel := context.WithDeadline(ctx, poll)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			v.notified(schema, n.PID, n.Payload)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
		default:
			return err
		}
		if time.Now().Before(poll) {
			continue
		}
		// Every pendingPoll, busy or quiet: send what is queued and no
		// step follows (see availability_notice.go), and make sure the
		// connection is alive, so that a silently dead one stops caching
		// within pendingPoll + the look's timeout.
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var queued bool
		err = conn.QueryRow(pctx, "SELECT EXISTS (SELECT 1 FROM availability_pending)").Scan(&queued)
		cancel()
		if err != nil {
			return fmt.Errorf("look for queued changes: %w", err)
		}
		if queued && v.sendQueued != nil {
			v.sendQueued()
		}
		poll = time.Now().Add(pendingPoll)
	}
}

// notified moves the versions a notification from backend pid names: its
// payload is the schema of the table written and the scope,
// space-separated (see migration 00070). Other schemas' notifications are
// ignored; one in another form moves everything. A place change this
// process committed itself was read once after its commit, and is not read
// again (see ownNotices).
func (v *availabilityVersion) notified(schema string, pid uint32, payload string) {
	i := strings.LastIndexByte(payload, ' ')
	if i < 0 {
		v.bump()
		return
	}
	if payload[:i] != schema {
		return
	}
	scope := payload[i+1:]
	if p, ok := parsePlaceScope(scope); ok {
		if v.isOwn(pid, scope, time.Now()) {
			return
		}
		v.placeMu.Lock()
		read := v.readPlaces
		v.placeMu.Unlock()
		v.places([]placeScope{p}, read)
		return
	}
	v.bumpScope(scope)
}

// close stops the listener, if it runs, and waits for it.
func (v *availabilityVersion) close() {
	v.startOnce.Do(func() {}) // no listener may start after this
	if v.stop != nil {
		v.stop()
		<-v.done
	}
}
