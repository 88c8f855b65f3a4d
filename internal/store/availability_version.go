package store

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// What Availability answers depends only on the rows of these tables (and
// on the clock). A write to any of them may change it; a write to any other
// table cannot: a booking takes or releases its place by updating its slot's
// booked count, and a slot hold is a row of slot_holds.
var availabilityTables = map[string]bool{
	"slots": true, "providers": true, "locations": true, "consultation_types": true, "slot_holds": true,
}

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
// sqliteWatch reads; on PostgreSQL in availability_pending, whose rows a
// step after the commit announces in NOTIFYs with the scope as payload
// (migration 00104, availability_notice.go), which the listener receives,
// and in a transaction-local setting the writing instance reads before its
// commit. GORM callbacks on every create,
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

	// PostgreSQL: the listener that turns other instances' NOTIFYs into
	// moves, and asks sendQueued (the store's step after commits) to send
	// the availability changes it finds queued unsent.
	sendQueued func()
	pgURL      string
	log        *slog.Logger
	startOnce  sync.Once
	listening  atomic.Bool // false: notifications may be missed, do not cache
	stop       context.CancelFunc
	done       chan struct{}

	// Place changes (see OnPlaces): placeMu orders their reads and
	// deliveries, and guards sinks, readPlaces (the pool's reader, for
	// PostgreSQL's notifications and commits) and now (the store's clock).
	placeMu    sync.Mutex
	sinks      []func([]SlotPlaces) bool
	readPlaces placesReader
	now        func() time.Time

	// PostgreSQL: the place changes of this process's commits whose
	// notifications the listener skips (see ownNotices).
	ownMu sync.Mutex
	own   ownNotices
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
// "provider/day" (or "provider/day/slot", a place change, see OnPlaces),
// "provider", or anything else ('*') for everything.
func (v *availabilityVersion) bumpScope(scope string) {
	if p, ok := parsePlaceScope(scope); ok {
		v.bumpProvider(p.provider, p.day, false)
		return
	}
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
// Once a function is registered with OnPlaces, writes that only take or
// free places of a slot no longer move it: they are handed to that
// function instead, at the same moments.
//
// An answer of Availability to q read after AvailabilityVersion returned n
// may be reused for as long as it still returns n (and, the clock being the
// other input, until AvailabilityValidUntil), with the place changes
// handed to OnPlaces's functions meanwhile patched in.
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
