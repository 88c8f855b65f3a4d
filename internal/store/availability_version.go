package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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
// changed, by scope: an answer about provider P for days D moves after every
// committed write to P's slots starting on one of the days D (or holds on
// them), one about the whole clinic (or a location, or a consultation type)
// after every such write to any provider's slots on those days. A
// catalogue change (providers, locations, consultation types), or a write
// whose scope is not known, moves them all. Writes by this process and, on
// both databases, by any process on the same database count.
//
// Which writes count is decided by the database: triggers on
// availabilityTables (migration 00070) record, in the writing transaction,
// the scope of every row written (its provider and the UTC day its slot
// starts on): on SQLite in the table availability_changes, which
// sqliteWatch reads; on PostgreSQL in a NOTIFY with the scope as payload,
// which the listener receives, and in a transaction-local setting the
// writing instance reads before its commit. GORM callbacks on every create,
// update, delete and raw statement (onWrite) only tell this process when to
// look, so that a write path added later cannot forget it. Inside a
// transaction (Store.tx) the callback only marks the transaction; the
// versions move once it has committed. Moving after the commit is what
// makes them safe to cache against: a reader reads the version before it
// queries, so an answer it caches under version n was read from a snapshot
// no older than n's writes.
//
// All versions are values of one counter, total, which every move
// increments: the version of an answer is the largest value total had at
// the last move of everything or of any scope the answer covers. So each
// version only grows, and one read after a move is larger than any read
// before it.
type availabilityVersion struct {
	total atomic.Uint64 // every move
	all   atomic.Uint64 // total at the last move of everything

	mu sync.RWMutex
	// byProvider holds, for each provider (uuid.Nil: any provider), the
	// value of total at the last move of its slots by UTC day (start_at /
	// 86400), and at the last move of the provider as a whole.
	byProvider map[uuid.UUID]*dayVersions

	// PostgreSQL: the listener that turns other instances' NOTIFYs into moves.
	pgURL     string
	log       *slog.Logger
	startOnce sync.Once
	listening atomic.Bool // false: notifications may be missed, do not cache
	stop      context.CancelFunc
	done      chan struct{}
}

// dayVersions is one provider's versions (see availabilityVersion).
type dayVersions struct {
	whole uint64           // the provider as a whole, every day
	days  map[int64]uint64 // by UTC day
}

// maxDayVersions bounds the days remembered for one provider: beyond it,
// they fold into its version as a whole (only a few more cache misses).
const maxDayVersions = 4096

func newAvailabilityVersion(pgURL string, log *slog.Logger) *availabilityVersion {
	return &availabilityVersion{pgURL: pgURL, log: log, byProvider: map[uuid.UUID]*dayVersions{}}
}

// bump moves every version.
func (v *availabilityVersion) bump() { storeMax(&v.all, v.total.Add(1)) }

// bumpProvider moves the versions of provider id's slots starting on UTC
// day (every day when whole), and those of the questions about any provider.
func (v *availabilityVersion) bumpProvider(id uuid.UUID, day int64, whole bool) {
	t := v.total.Add(1)
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, p := range []uuid.UUID{id, uuid.Nil} {
		dv := v.byProvider[p]
		if dv == nil {
			dv = &dayVersions{days: map[int64]uint64{}}
			v.byProvider[p] = dv
		}
		if whole {
			dv.whole = max(dv.whole, t)
			continue
		}
		dv.days[day] = max(dv.days[day], t)
		if len(dv.days) > maxDayVersions {
			for _, n := range dv.days {
				dv.whole = max(dv.whole, n)
			}
			clear(dv.days)
		}
	}
}

// bumpScope moves the versions a scope recorded by the triggers names:
// "provider/day", "provider", or anything else ('*') for everything.
func (v *availabilityVersion) bumpScope(scope string) {
	id, dayText, hasDay := strings.Cut(scope, "/")
	p, err := uuid.Parse(id)
	if err != nil {
		v.bump()
		return
	}
	if !hasDay {
		v.bumpProvider(p, 0, true)
		return
	}
	day, err := strconv.ParseInt(dayText, 10, 64)
	if err != nil {
		v.bump()
		return
	}
	v.bumpProvider(p, day, false)
}

// of is the version of the answers to q: about q.ProviderID (any provider
// when nil), for the slots starting in q.Days's window (every day when
// q.Days is zero).
func (v *availabilityVersion) of(q AvailabilityQuery) uint64 {
	p := uuid.Nil
	if q.ProviderID != nil {
		p = *q.ProviderID
	}
	n := v.all.Load()
	if p == uuid.Nil && q.Days.From.IsZero() {
		return max(n, v.total.Load())
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	dv := v.byProvider[p]
	if dv == nil {
		return n
	}
	n = max(n, dv.whole)
	if q.Days.From.IsZero() {
		for _, t := range dv.days {
			n = max(n, t)
		}
		return n
	}
	lo, hi := availabilityDays(q.Days)
	for d := lo; d <= hi; d++ {
		n = max(n, dv.days[d])
	}
	return n
}

// availabilityDays are the UTC days (start_at / 86400, as the triggers
// count them) on which the slots Availability reads for days start: those
// of its window.
func availabilityDays(days booking.DateRange) (lo, hi int64) {
	start, end := days.Window()
	return start.Unix() / 86400, (end.Unix() - 1) / 86400
}

// storeMax sets c to n unless it holds more already.
func storeMax(c *atomic.Uint64, n uint64) {
	for {
		old := c.Load()
		if old >= n || c.CompareAndSwap(old, n) {
			return
		}
	}
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
// marks the transaction it belongs to (Store.tx moves the versions when the
// transaction ends), or, outside one, moves them at once: a single-statement
// write has committed when its Exec returns. (Outside a transaction a write
// must not be read with Rows, whose statement completes only as the rows are
// read; the store has none.) On SQLite the scopes written are read from
// availability_changes (see sqliteWatch.sync); on PostgreSQL, where the
// transaction-local record of an autocommitted statement is gone once it
// returns, everything moves (the other instances get the scoped NOTIFYs of
// the triggers).
func (s *Store) onWrite(db *gorm.DB) {
	if !touchesAvailability(db.Statement) {
		return
	}
	if m, ok := db.Statement.Context.Value(txMarkKey{}).(*txMark); ok {
		m.dirty.Store(true)
		return
	}
	if s.dialect == Postgres {
		s.avail.bump()
		return
	}
	s.watch.sync(s.avail)
}

// availabilityScopesSQL reads, inside a PostgreSQL transaction, the scopes
// its writes recorded (see migration 00070): space-separated, empty or NULL
// for none.
const availabilityScopesSQL = "SELECT coalesce(current_setting('clinic.availability_scopes', true), '')"

// availabilityInvalidateSQL records an explicit invalidation of a provider in
// the writing transaction, as the triggers do for the rows they see.
var availabilityInvalidateSQL = map[Dialect]string{
	SQLite:   "INSERT INTO availability_changes (scope) VALUES (?)",
	Postgres: "SELECT availability_changed(current_schema(), ?)",
}

// flushAvailability runs at the end of a transaction marked dirty, before
// its commit: it records the providers InvalidateAvailability named, and on
// PostgreSQL reads the scopes the transaction's writes recorded.
func (s *Store) flushAvailability(tx *gorm.DB, m *txMark) error {
	if !m.dirty.Load() {
		return nil
	}
	for _, id := range m.invalidated {
		if err := tx.Exec(availabilityInvalidateSQL[s.dialect], id.String()).Error; err != nil {
			return fmt.Errorf("invalidate availability: %w", err)
		}
	}
	if s.dialect != Postgres {
		return nil
	}
	var scopes string
	m.scopes, m.scopesErr = nil, nil
	if err := tx.Raw(availabilityScopesSQL).Row().Scan(&scopes); err != nil {
		// The versions move for everything instead (endAvailability); the
		// transaction itself need not fail for it.
		m.scopesErr = err
		return nil
	}
	m.scopes = strings.Fields(scopes)
	return nil
}

// endAvailability moves the versions once a transaction marked dirty has
// ended, committed or not (a needless move only costs cache misses): on
// SQLite those of the scopes availability_changes shows moved, on
// PostgreSQL those its triggers recorded, or everything when that record
// could not be read.
func (s *Store) endAvailability(m *txMark) {
	if !m.dirty.Load() {
		return
	}
	if s.dialect != Postgres {
		s.watch.sync(s.avail)
		return
	}
	if m.scopesErr != nil || (m.scopes == nil && len(m.invalidated) > 0) {
		s.avail.bump()
		return
	}
	for _, sc := range m.scopes {
		s.avail.bumpScope(sc)
	}
}

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
// write that can change what Availability returns for q (only its
// provider, nil for any, and its days, zero for all, count): slots of that
// provider starting in q's window created, generated, updated or deleted,
// places taken or released on them by bookings, holds placed or released
// on them, and catalogue changes, which move every version. Writes by this
// process move it before the write's call returns. Writes by other
// processes on the same database move it too: on SQLite within a
// millisecond of their commit (see sqliteWatch), on PostgreSQL when their
// notification arrives, normally milliseconds after their commit. A write
// to another provider's slots, or to slots on other days, leaves it as it
// is. It only grows.
//
// ok is false while changes could go unnoticed (on PostgreSQL, until the
// listener is connected, and whenever it has lost its connection; on SQLite,
// should the record of changes fail to read): nothing may be cached then. On
// PostgreSQL the first call starts the listener.
//
// An answer of Availability to q read after AvailabilityVersion returned n
// may be reused for as long as it still returns n (and, the clock being the
// other input, until AvailabilityValidUntil).
func (s *Store) AvailabilityVersion(q AvailabilityQuery) (version uint64, ok bool) {
	v := s.avail
	if s.dialect != Postgres {
		if !s.watch.check(v) {
			return 0, false
		}
		return v.of(q), true
	}
	v.startOnce.Do(v.start)
	if !v.listening.Load() {
		return 0, false
	}
	return v.of(q), true
}

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
		v.bumpScope(scope)
		w.seq = seq
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read availability changes: %w", err)
	}
	w.last = dv
	return nil
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
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	v.bump()
	v.listening.Store(true)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			v.notified(schema, n.Payload)
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

// notified moves the versions a notification names: its payload is the
// schema of the table written and the scope, space-separated (see
// migration 00070). Other schemas' notifications are ignored; one in
// another form moves everything.
func (v *availabilityVersion) notified(schema, payload string) {
	i := strings.LastIndexByte(payload, ' ')
	if i < 0 {
		v.bump()
		return
	}
	if payload[:i] != schema {
		return
	}
	v.bumpScope(payload[i+1:])
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
// own (a write to a table outside availabilityTables). Called inside a
// Store transaction (with its context), it is recorded in that transaction
// for the other instances, and the version moves when it has committed;
// outside one, at once, and the other instances are told.
func (s *Store) InvalidateAvailability(ctx context.Context, providerID uuid.UUID) {
	if m, ok := ctx.Value(txMarkKey{}).(*txMark); ok {
		m.mu.Lock()
		m.invalidated = append(m.invalidated, providerID)
		m.mu.Unlock()
		m.dirty.Store(true)
		return
	}
	err := s.tx(context.WithoutCancel(ctx), func(tx *gorm.DB) error {
		s.InvalidateAvailability(tx.Statement.Context, providerID)
		return nil
	})
	if err != nil {
		// Not recorded for the other instances; this one at least forgets.
		s.avail.bump()
		s.avail.log.Warn("availability invalidation not recorded", "error", err.Error())
	}
}
