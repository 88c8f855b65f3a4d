// Package store keeps the service's data in SQLite or PostgreSQL through GORM.
// It maps database rows to the domain types of package booking and auth; rows
// never leave this package. Every service call that writes runs in one
// transaction, and the rules that must hold under concurrency (no overbooking,
// no overlapping slots) are enforced here by the database, not by a read
// followed by a write.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/clinic/consult/internal/booking"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database behind a Store.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the service's storage. It is safe for concurrent use.
type Store struct {
	walkBudget int // see defaultWalkBudget
	// staffSessionSQL is the StaffSession statement for this database.
	staffSessionSQL string
	sessions        staffSessions // StaffSession's recent answers
	db              *gorm.DB      // reads, and single-statement writes
	sqlDB           *sql.DB
	// searchDB runs the staff searches' reads (see listReads and
	// listPatients). On PostgreSQL it is a small pool of its own whose
	// sessions plan every prepared statement once, generically
	// (plan_cache_mode = force_generic_plan): a search's statement took as
	// long to plan as to run, and under plan_cache_mode = auto PostgreSQL
	// may make a custom plan at every call. Only the searches use it: the
	// booking and availability statements keep the planner's per-call
	// choice. On SQLite it is db.
	searchDB    *gorm.DB
	searchSQLDB *sql.DB
	// wdb runs the transactions (Store.tx). On SQLite it is a pool of one
	// connection: SQLite lets one transaction write at a time anyway, and
	// with one connection the writers queue in Go, handed the connection in
	// turn, instead of polling the file lock in SQLite's busy handler (which
	// sleeps 1 to 100 ms between tries), and that connection's page cache
	// stays warm, since no other connection changes the file under it. On
	// PostgreSQL it is db.
	wdb    *gorm.DB
	wsqlDB *sql.DB
	// writer runs the transactions on SQLite, with group commit; nil on
	// PostgreSQL.
	writer *sqliteWriter
	// stopCheckpointer stops the background WAL checkpoints (SQLite).
	stopCheckpointer func()
	// watch sees other processes' commits to the SQLite file (see
	// AvailabilityVersion).
	watch   *sqliteWatch
	dialect Dialect
	now     func() time.Time
	avail   *availabilityVersion // see AvailabilityVersion
	feed    *feedWatch           // see SubscribeFeed
	// numberer numbers the feed and announces availability changes after
	// commit (PostgreSQL; see numberFeed and availability_notice.go).
	numberer *feedNumberer
	// searchQueued is set by a call of the SQLite writer that queued a
	// search document itself (createBooking, search_docid.go), and cleared
	// by its batch's flush, which then need not read whether the queue
	// holds anything (flushSearch).
	searchQueued atomic.Bool
}

// Option changes how Open builds a Store.
type Option func(*Store)

// WithClock makes the store use now for the timestamps it writes; tests use
// it to pin time.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open connects to the database named by rawURL (sqlite://path or
// postgres://...), applies the pending migrations and returns the Store. For
// SQLite it creates the file's folder when missing. Several processes may
// call Open on one PostgreSQL database at once: migrations run under an
// advisory lock.
func Open(ctx context.Context, rawURL string, log *slog.Logger, opts ...Option) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open database: parse url: %w", err)
	}
	s := &Store{now: time.Now, avail: newAvailabilityVersion(rawURL, log), walkBudget: defaultWalkBudget}
	s.feed = newFeedWatch(s, rawURL, log)
	s.numberer = &feedNumberer{s: s}
	s.avail.sendQueued = s.askFeedNumbering
	for _, o := range opts {
		o(s)
	}
	gcfg := func() *gorm.Config {
		return &gorm.Config{
			Logger:                 logger.Discard,
			NowFunc:                func() time.Time { return s.now().UTC() },
			TranslateError:         true,
			SkipDefaultTransaction: true,
		}
	}
	var sqlitePath string
	switch u.Scheme {
	case "sqlite":
		s.dialect = SQLite
		path := strings.TrimPrefix(rawURL, "sqlite://")
		if path == "" {
			return nil, errors.New("open database: sqlite url has no path")
		}
		if err := prepareSQLiteFile(path, log); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		// Processes opening one new file at once would race to switch it to
		// WAL and to migrate it; they take turns instead, under a file lock
		// held until Open returns.
		// err is the function's own, not a new one in this case: the open
		// below must reach the check after the switch (a shadowed err once
		// let a file that is not SQLite through to a nil pointer).
		var unlock func()
		unlock, err = lockFile(path + ".open-lock")
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		defer unlock()
		sqlitePath = path
		s.db, err = openSQLiteGorm(path, gcfg())
	case "postgres", "postgresql":
		s.dialect = Postgres
		if s.db, err = gorm.Open(postgres.Open(rawURL), gcfg()); err == nil {
			if s.searchDB, err = gorm.Open(postgres.Open(genericPlansURL(u)), gcfg()); err != nil {
				if main, dbErr := s.db.DB(); dbErr == nil {
					main.Close()
				}
				err = fmt.Errorf("search pool: %w", err)
			}
		}
	default:
		return nil, fmt.Errorf("open database: unknown scheme %q", u.Scheme)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	s.sqlDB, err = s.db.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	s.staffSessionSQL = bindFor(s.dialect == Postgres)(staffSessionSQL)
	configurePool(s.sqlDB, s.dialect)
	if s.searchDB == nil {
		s.searchDB, s.searchSQLDB = s.db, s.sqlDB
	} else {
		if s.searchSQLDB, err = s.searchDB.DB(); err != nil {
			s.sqlDB.Close()
			return nil, fmt.Errorf("open database: search pool: %w", err)
		}
		configureSearchPool(s.searchSQLDB)
	}
	if err := s.sqlDB.PingContext(ctx); err != nil {
		s.sqlDB.Close()
		if s.searchSQLDB != s.sqlDB {
			s.searchSQLDB.Close()
		}
		return nil, fmt.Errorf("open database: ping: %w", err)
	}
	s.wdb, s.wsqlDB = s.db, s.sqlDB
	if s.dialect == SQLite {
		if s.wdb, err = openSQLiteGorm(sqlitePath+"?writer", gcfg()); err == nil {
			s.wsqlDB, err = s.wdb.DB()
		}
		if err != nil {
			s.sqlDB.Close()
			return nil, fmt.Errorf("open database: writer: %w", err)
		}
		s.wsqlDB.SetMaxOpenConns(1)
		s.wsqlDB.SetMaxIdleConns(1)
		s.writer = newSQLiteWriter(s.wsqlDB)
		// A step of every commit: see Store.tx.
		s.writer.beforeCommit = func(ctx context.Context, tx *sql.Tx) error {
			return flushSearch(ctx, tx, s.searchQueued.Swap(false))
		}
		if s.watch, err = openSQLiteWatch(ctx, sqliteDSN(sqlitePath)); err != nil {
			s.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
		if err := s.startCheckpointer(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	if err := s.registerAvailabilityCallbacks(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrate(ctx, log); err != nil {
		s.Close()
		return nil, err
	}
	// The intake form this build serves is kept before any booking names
	// its version, so admins can always read what a patient answered.
	if err := s.SaveIntakeForm(ctx, booking.IntakeFormVersion(), booking.IntakeFormJSON()); err != nil {
		s.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if s.writer != nil {
		// A migration may have left search documents queued (see
		// search_queue.go); a transaction of the writer writes them.
		if err := s.writer.run(ctx, func(*sql.Tx) error { return nil }); err != nil {
			s.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	// Feed events that a crash left unnumbered between their commit and
	// their numbering get their ids now, and availability changes it left
	// unannounced are announced (PostgreSQL; see numberFeed).
	if err := s.numberFeed(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return s, nil
}

// configurePool sizes the connection pool of the store's database. One
// writer at a time is SQLite's model; readers run beside it in WAL mode:
// enough connections for parallel reads, few enough to keep file handles
// bounded.
func configurePool(db *sql.DB, d Dialect) {
	switch d {
	case SQLite:
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	case Postgres:
		// As many idle as open: a connection closed when a burst ends is
		// a backend to start again at the next, cold (its catalog caches
		// and prepared statements gone), which a search pays in
		// milliseconds.
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
}

// configureSearchPool sizes PostgreSQL's pool of search reads (see
// Store.searchDB): a few reception desks typing at once, each search a
// statement of a few milliseconds, so fewer connections than the main
// pool; as many idle as open for the same reason as the main pool's (a
// new connection prepares and plans its statements again).
func configureSearchPool(db *sql.DB) {
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
}

// genericPlansURL is the PostgreSQL URL u with plan_cache_mode set to
// force_generic_plan, a setting pgx sends at connect for the session
// (any parameter it does not know itself is one).
func genericPlansURL(u *url.URL) string {
	g := *u
	q := g.Query()
	q.Set("plan_cache_mode", "force_generic_plan")
	g.RawQuery = q.Encode()
	return g.String()
}

// OpenPlain opens a plain GORM pool on rawURL (sqlite://path or
// postgres://...) with the store's own connection settings (SQLite's
// pragmas, BEGIN IMMEDIATE and statement cache, and the pool sizes of
// Open), but no migration, writer queue or cache: for tools that measure
// what the database itself can do, such as the load tool's write floor.
func OpenPlain(rawURL string) (*gorm.DB, error) {
	cfg := &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true}
	var (
		db      *gorm.DB
		err     error
		dialect = Postgres
	)
	if path, ok := strings.CutPrefix(rawURL, "sqlite://"); ok {
		dialect = SQLite
		db, err = openSQLiteGorm(path, cfg)
	} else {
		db, err = gorm.Open(postgres.Open(rawURL), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	configurePool(sqlDB, dialect)
	return db, nil
}

// openSQLiteGorm opens a GORM database on a pool of SQLite connections that
// keep their prepared statements (see stmtCacheConn).
func openSQLiteGorm(path string, cfg *gorm.Config) (*gorm.DB, error) {
	dsn := sqliteDSN(strings.TrimSuffix(path, "?writer"))
	if strings.HasSuffix(path, "?writer") {
		// The writer keeps SQLite's default 2 MB of pages, not more: a
		// B-tree page split that renumbers pages passes a page through a
		// number beyond the end of the file, and the next commit then
		// walks the whole page cache to drop pages past the end. With 16 MB
		// that walk was a sixth of the writer's time; the pages a bigger
		// cache would have kept come from the OS's cache for less.
		dsn += "&_cache_size=-2048"
	} else {
		// Each reader keeps 1 MB of pages, not SQLite's default 2 MB: eight
		// readers' caches were a sixth of the process under a flood of long
		// availability questions, and the pages come from the OS's cache
		// for a copy.
		dsn += "&_cache_size=-1024"
	}
	pool, err := openSQLiteDB(dsn)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(sqlite.New(sqlite.Config{Conn: pool}), cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// sqliteDSN turns a file path into a go-sqlite3 DSN. _txlock=immediate makes
// every transaction take the write lock at BEGIN, so concurrent writers queue
// on the busy timeout instead of failing with "database is locked" when a
// read lock cannot be upgraded.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "30000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

func (s *Store) migrate(ctx context.Context, log *slog.Logger) error {
	dir := "migrations/sqlite"
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.dialect == Postgres {
		dir = "migrations/postgres"
		dialect = goose.DialectPostgres
		// The lock is per schema: instances migrating one schema take turns,
		// while other schemas of the server (tests use one each) need not wait.
		var schema string
		if err := s.sqlDB.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte(schema))
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(lock.DefaultLockID^int64(h.Sum64()>>1)),
			lock.WithLockTimeout(1, 300), // poll every second, for up to five minutes
		)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	opts = append(opts, goose.WithGoMigrations(goMigrations(s.dialect == Postgres)...))
	// Branches developed side by side number their migrations in ranges of
	// their own, so a database may be at a higher version than a migration
	// merged later: such a migration is applied, not refused.
	opts = append(opts, goose.WithAllowOutofOrder(true))
	p, err := goose.NewProvider(dialect, s.sqlDB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := checkNotNewer(ctx, p); err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		log.InfoContext(ctx, "migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	return s.migrateQueue(ctx)
}

// ErrSchemaNewer is returned by Open when the database was migrated by a
// newer version of the server than this one.
var ErrSchemaNewer = errors.New("the database schema is newer than this server knows")

// goMigrations are the migrations written in Go, for both dialects.
func goMigrations(postgres bool) []*goose.Migration {
	return []*goose.Migration{
		// Version 41 attaches the bookings made before patient records
		// existed to records, with the rule new bookings follow.
		goose.NewGoMigration(41,
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return backfillPatients(ctx, tx, postgres) }},
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "UPDATE bookings SET patient_id = NULL")
				return err
			}}),
		// Version 98, on SQLite (nothing on PostgreSQL): the bookings and
		// the patient records made with them share one search document
		// (see 00097_one_search_document.sql). Going down, 97 rebuilds
		// both indexes from the rows.
		goose.NewGoMigration(98,
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
				if postgres {
					return nil
				}
				return shareSearchDocs(ctx, tx)
			}},
			&goose.GoFunc{RunTx: func(context.Context, *sql.Tx) error { return nil }}),
		// Version 102: the search documents of names and emails with
		// accents or punctuation hold their folded forms (search.go,
		// refoldSearchDocs). Going down keeps them.
		goose.NewGoMigration(102,
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return refoldSearchDocs(ctx, tx, postgres) }},
			&goose.GoFunc{RunTx: func(context.Context, *sql.Tx) error { return nil }}),
	}
}

// checkNotNewer refuses a database whose schema version is beyond the
// newest migration this binary embeds: a newer server migrated it, and an
// older one would serve it without knowing its tables and rules.
func checkNotNewer(ctx context.Context, p *goose.Provider) error {
	sources := p.ListSources()
	if len(sources) == 0 {
		return nil
	}
	known := sources[len(sources)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if current > known {
		return fmt.Errorf("migrate: %w: the database is at version %d, this server knows up to %d; run the newer server (or restore a backup taken before the upgrade)", ErrSchemaNewer, current, known)
	}
	return nil
}

// prepareSQLiteFile makes the SQLite file's folder (0700) when missing and
// the file itself (0600) before SQLite opens it, so that SQLite, which gives
// its -wal and -shm files the database file's mode, keeps them all readable
// by the service's user only. An existing file and its companions are
// narrowed to 0600; an existing folder is left as it is (it may be shared,
// such as the working directory), with a warning when others may read it.
func prepareSQLiteFile(path string, log *slog.Logger) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create folder: %w", err)
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the database folder is open to other users; give it mode 0700",
			"folder", dir, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restrict file mode: %w", err)
		}
	}
	return nil
}

// lockFile takes an exclusive advisory lock on path (created if missing),
// so that processes opening one SQLite file at once set it up one at a time,
// as PostgreSQL's advisory lock does for migrations on a server database.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Dialect reports which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close stops the availability listener, if it runs, and closes the
// database connections.
func (s *Store) Close() error {
	s.avail.close()
	s.feed.close()
	s.numberer.close()
	if s.stopCheckpointer != nil {
		s.stopCheckpointer()
	}
	s.watch.close()
	if s.wsqlDB != s.sqlDB {
		s.wsqlDB.Close()
	}
	if s.searchSQLDB != nil && s.searchSQLDB != s.sqlDB {
		s.searchSQLDB.Close()
	}
	return s.sqlDB.Close()
}

// isUniqueViolation reports whether err is a unique-constraint violation.
func isUniqueViolation(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey)
}

// isCheckViolation reports whether err is a CHECK-constraint violation.
func isCheckViolation(err error) bool {
	if errors.Is(err, gorm.ErrCheckConstraintViolated) {
		return true
	}
	// go-sqlite3's translator does not map CHECK failures; match its text.
	return err != nil && strings.Contains(err.Error(), "CHECK constraint failed")
}

// PoolCollectors returns Prometheus collectors of the connection pools'
// figures (go_sql_*), labelled db_name "main" and, on SQLite, "writer" for
// the single connection that runs the transactions, on PostgreSQL
// "search" for the staff searches' pool.
func (s *Store) PoolCollectors() []prometheus.Collector {
	out := []prometheus.Collector{collectors.NewDBStatsCollector(s.sqlDB, "main")}
	if s.wsqlDB != s.sqlDB {
		out = append(out, collectors.NewDBStatsCollector(s.wsqlDB, "writer"))
	}
	if s.searchSQLDB != s.sqlDB {
		out = append(out, collectors.NewDBStatsCollector(s.searchSQLDB, "search"))
	}
	return out
}
