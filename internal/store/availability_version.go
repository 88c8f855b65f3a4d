package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// What Availability answers depends only on the rows of these tables (and
// on the clock). A write to any of them may change it; a write to any other
// table cannot: a booking takes or releases its place by updating its slot's
// booked count, and a slot hold is a row of slot_holds.
var availabilityTables = map[string]bool{
	"slots": true, "providers": true, "locations": true, "consultation_types": true, "slot_holds": true,
}

// availabilityChannel is the PostgreSQL NOTIFY channel on which every
// instance announces a committed write to availabilityTables.
const availabilityChannel = "clinic_availability"

// availabilityVersion tells readers when Availability's answers may have
// changed: a counter bumped after every committed write to
// availabilityTables, by this process or, on PostgreSQL, by any process on
// the same database.
//
// Writes are seen by GORM callbacks on every create, update, delete and raw
// statement (onWrite), not by calls sprinkled over the write paths, so that
// a write path added later cannot forget them. Inside a transaction (Store.tx)
// the callback only marks the transaction; the counter moves once it has
// committed. Bumping after the commit is what makes the counter safe to cache
// against: a reader reads the counter before it queries, so an answer it
// caches under counter n was read from a snapshot no older than n's writes.
type availabilityVersion struct {
	n atomic.Uint64

	// PostgreSQL: the listener that turns other instances' NOTIFYs into bumps.
	pgURL     string
	log       *slog.Logger
	startOnce sync.Once
	listening atomic.Bool // false: notifications may be missed, do not cache
	stop      context.CancelFunc
	done      chan struct{}
}

func (v *availabilityVersion) bump() { v.n.Add(1) }

// txMark is the context value Store.tx sets: whether the transaction wrote
// to availabilityTables.
type txMark struct {
	dirty atomic.Bool
	feed  atomic.Bool // appended to the live feed (see flushFeed)

	mu          sync.Mutex
	pendingFeed []feedEventRow // feed events waiting for their ids (see appendFeed)
}

type txMarkKey struct{}

func withTxMark(ctx context.Context, m *txMark) context.Context {
	return context.WithValue(ctx, txMarkKey{}, m)
}

// registerAvailabilityCallbacks hooks onWrite after GORM's create, update,
// delete and raw (Exec) statements.
func (s *Store) registerAvailabilityCallbacks() error {
	dbs := []*gorm.DB{s.db}
	if s.wdb != s.db {
		dbs = append(dbs, s.wdb)
	}
	for _, db := range dbs {
		cb := db.Callback()
		for _, err := range []error{
			cb.Create().After("gorm:create").Register("clinic:availability_create", s.onWrite),
			cb.Update().After("gorm:update").Register("clinic:availability_update", s.onWrite),
			cb.Delete().After("gorm:delete").Register("clinic:availability_delete", s.onWrite),
			cb.Raw().After("gorm:raw").Register("clinic:availability_raw", s.onWrite),
			// Raw(...).Rows() and Scan run here: UPDATE ... RETURNING.
			cb.Row().After("gorm:row").Register("clinic:availability_row", s.onWrite),
		} {
			if err != nil {
				return fmt.Errorf("register availability callbacks: %w", err)
			}
		}
	}
	return nil
}

// onWrite runs after each writing statement. A write to availabilityTables
// marks the transaction it belongs to (Store.tx bumps the counter, and on
// PostgreSQL queues the NOTIFY, when the transaction ends), or, outside one,
// bumps the counter and notifies at once: a single-statement write has
// committed when its Exec returns. (Outside a transaction a write must not
// be read with Rows, whose statement completes only as the rows are read;
// the store has none.)
func (s *Store) onWrite(db *gorm.DB) {
	if !touchesAvailability(db.Statement) {
		return
	}
	if m, ok := db.Statement.Context.Value(txMarkKey{}).(*txMark); ok {
		m.dirty.Store(true)
		return
	}
	if s.dialect == Postgres {
		_, _ = s.sqlDB.ExecContext(context.WithoutCancel(db.Statement.Context), notifySQL, availabilityChannel)
	}
	s.avail.bump()
}

// notifySQL tells the other instances that availability may have changed;
// inside a transaction PostgreSQL delivers it when, and only if, the
// transaction commits.
const notifySQL = "SELECT pg_notify($1, '')"

// touchesAvailability reports whether the statement may have written to
// availabilityTables. A raw statement (Exec, Raw) counts when it is not a
// SELECT and names one of them.
func touchesAvailability(st *gorm.Statement) bool {
	sql := strings.ToLower(strings.TrimSpace(st.SQL.String()))
	if strings.HasPrefix(sql, "select") {
		return false
	}
	if st.Table != "" {
		return availabilityTables[st.Table]
	}
	for t := range availabilityTables {
		if strings.Contains(sql, t) {
			return true
		}
	}
	return false
}

// AvailabilityVersion returns a number that changes after every committed
// write that can change what Availability returns: slots created, generated,
// updated or deleted, places taken or released by bookings, and catalogue
// changes. Writes by this process move it before the write's call returns.
// Writes by other processes on the same database move it too: on SQLite
// within a millisecond of their commit (see sqliteWatch), on PostgreSQL when
// their notification arrives, normally milliseconds after their commit.
//
// ok is false while changes could go unnoticed (on PostgreSQL, until the
// listener is connected, and whenever it has lost its connection; on SQLite,
// should the commit counter fail to read): nothing may be cached then. On
// PostgreSQL the first call starts the listener.
//
// An answer of Availability read after AvailabilityVersion returned n may be
// reused for as long as it still returns n (and, the clock being the other
// input, until AvailabilityValidUntil).
func (s *Store) AvailabilityVersion() (version uint64, ok bool) {
	v := s.avail
	if s.dialect != Postgres {
		if !s.watch.check(v) {
			return 0, false
		}
		return v.n.Load(), true
	}
	v.startOnce.Do(v.start)
	if !v.listening.Load() {
		return 0, false
	}
	return v.n.Load(), true
}

// sqliteWatch sees commits made to the SQLite file by other processes (a
// second server instance, a maintenance script): SQLite's PRAGMA
// data_version, read on a connection of its own that never writes, changes
// whenever any other connection has committed. Reading it costs some 15
// microseconds, so it is read at most once every watchEvery: a cached answer
// outlives another process's commit by at most that long. Any commit counts,
// to any table (also this process's own, which the counter has seen already):
// that only costs misses.
type sqliteWatch struct {
	mu     sync.Mutex
	db     *sql.DB
	conn   *sql.Conn
	stmt   *sql.Stmt
	last   int64
	readAt time.Time
}

// watchEvery is how often sqliteWatch reads the commit counter, at most.
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
	if err == nil {
		err = w.stmt.QueryRowContext(ctx).Scan(&w.last)
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("watch commits: %w", err)
	}
	return w, nil
}

// check bumps v when another connection committed since the last read of
// the counter, reading it again when the last read is watchEvery old, and
// reports whether it could tell.
func (w *sqliteWatch) check(v *availabilityVersion) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if now.Sub(w.readAt) < watchEvery {
		return true
	}
	var dv int64
	if err := w.stmt.QueryRowContext(context.Background()).Scan(&dv); err != nil {
		w.readAt = time.Time{}
		return false
	}
	w.readAt = now
	if dv != w.last {
		w.last = dv
		v.bump()
	}
	return true
}

func (w *sqliteWatch) close() {
	if w == nil {
		return
	}
	if w.stmt != nil {
		w.stmt.Close()
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

// listenCheck is how long the listener waits for a notification before it
// checks that its connection still answers.
const listenCheck = 5 * time.Second

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
	v.bump()
	v.listening.Store(true)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenCheck)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			v.bump()
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Quiet: make sure the connection is alive, so that a silently
			// dead one stops caching within listenCheck + the ping's timeout.
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		default:
			return err
		}
	}
}

// close stops the listener, if it runs, and waits for it.
func (v *availabilityVersion) close() {
	v.startOnce.Do(func() {}) // no listener may start after this
	if v.stop != nil {
		v.stop()
		<-v.done
	}
}

// AvailabilityUntil is Availability together with AvailabilityValidUntil
// of its answer: what a cache needs on a miss, in one call.
func (s *Store) AvailabilityUntil(ctx context.Context, q AvailabilityQuery) ([]booking.Day, time.Time, error) {
	days, err := s.Availability(ctx, q)
	if err != nil {
		return nil, time.Time{}, err
	}
	until, err := s.AvailabilityValidUntil(ctx, q, days)
	if err != nil {
		return nil, time.Time{}, err
	}
	return days, until, nil
}

// AvailabilityValidUntil returns until when days, Availability's answer to
// q (asked at q.Now), stays right with no write to the database: the first
// moment one of its slots leaves the booking window (its start less
// Policy.MinNotice) or a slot in q's range enters it (its start less
// Policy.MaxAdvance). The zero time means the answer does not expire.
func (s *Store) AvailabilityValidUntil(ctx context.Context, q AvailabilityQuery, days []booking.Day) (time.Time, error) {
	var until time.Time
	earlier := func(t time.Time) {
		if until.IsZero() || t.Before(until) {
			until = t
		}
	}
	for _, d := range days {
		for _, sl := range d.Slots {
			// Bookable while now <= start - MinNotice (Policy.PublicBookable).
			earlier(sl.StartAt.Add(-q.Policy.MinNotice))
		}
	}
	// A live hold on a slot of the range frees its place when it expires,
	// with no write: the answer holds until the first such expiry.
	lo, hiRange := q.Days.Window()
	hq := s.db.WithContext(ctx).Table("slot_holds h").Joins("JOIN slots s ON s.id = h.slot_id").
		Where("h.expires_at > ? AND s.start_at >= ? AND s.start_at < ?", q.Now.Unix(), lo.Unix(), ceilUnix(hiRange))
	for _, by := range []struct {
		col string
		id  *uuid.UUID
	}{{"s.provider_id", q.ProviderID}, {"s.location_id", q.LocationID}, {"s.consultation_type_id", q.ConsultationTypeID}} {
		if by.id != nil {
			hq = hq.Where(by.col+" = ?", by.id.String())
		}
	}
	var firstExpiry *int64
	if err := hq.Select("MIN(h.expires_at)").Scan(&firstExpiry).Error; err != nil {
		return time.Time{}, fmt.Errorf("availability valid until: %w", err)
	}
	if firstExpiry != nil {
		// Counted while expires_at > now: right until just before it.
		earlier(time.Unix(*firstExpiry, 0).Add(-time.Nanosecond))
	}
	if q.Policy.MaxAdvance <= 0 {
		return until, nil
	}
	horizon := q.Now.Add(q.Policy.MaxAdvance)
	_, hi := q.Days.Window()
	if !hi.After(horizon) {
		return until, nil
	}
	// The first slot beyond the horizon in the range, whatever its status
	// or catalogue: an earlier expiry than needed is only a cache miss.
	db := s.db.WithContext(ctx).Model(&slotRow{}).Where("start_at > ? AND start_at < ?", horizon.Unix(), ceilUnix(hi))
	for _, by := range []struct {
		col string
		id  *uuid.UUID
	}{{"provider_id", q.ProviderID}, {"location_id", q.LocationID}, {"consultation_type_id", q.ConsultationTypeID}} {
		if by.id != nil {
			db = db.Where(by.col+" = ?", by.id.String())
		}
	}
	var next *int64
	if err := db.Select("MIN(start_at)").Scan(&next).Error; err != nil {
		return time.Time{}, fmt.Errorf("availability valid until: %w", err)
	}
	if next != nil {
		// Bookable from start - MaxAdvance on; the answer holds until just
		// before.
		earlier(time.Unix(*next, 0).Add(-q.Policy.MaxAdvance - time.Nanosecond))
	}
	return until, nil
}

// InvalidateAvailability says that what Availability answers for provider
// providerID may have changed through a write the store cannot see on its
// own (a write to a table outside availabilityTables, such as a hold on a
// place). Called inside a Store transaction (with its context), the version
// moves when that transaction has committed; outside one, at once, and on
// PostgreSQL the other instances are told. Today every call moves the one
// version that all cached answers share; the provider is the scope a finer
// invalidation would empty, so callers already say it.
func (s *Store) InvalidateAvailability(ctx context.Context, providerID uuid.UUID) {
	_ = providerID // the scope of a finer invalidation; see the comment above
	if m, ok := ctx.Value(txMarkKey{}).(*txMark); ok {
		m.dirty.Store(true)
		return
	}
	if s.dialect == Postgres {
		_, _ = s.sqlDB.ExecContext(context.WithoutCancel(ctx), notifySQL, availabilityChannel)
	}
	s.avail.bump()
}
