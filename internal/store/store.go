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
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
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
	db    *gorm.DB // reads, and single-statement writes
	sqlDB *sql.DB
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
	s := &Store{now: time.Now, avail: &availabilityVersion{pgURL: rawURL, log: log}}
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
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("open database: create folder: %w", err)
			}
		}
		// Processes opening one new file at once would race to switch it to
		// WAL and to migrate it; they take turns instead, under a file lock
		// held until Open returns.
		unlock, err := lockFile(path + ".open-lock")
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		defer unlock()
		sqlitePath = path
		s.db, err = openSQLiteGorm(path, gcfg())
	case "postgres", "postgresql":
		s.dialect = Postgres
		s.db, err = gorm.Open(postgres.Open(rawURL), gcfg())
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
	switch s.dialect {
	case SQLite:
		// One writer at a time is SQLite's model; readers run beside it in WAL
		// mode. Enough connections for parallel reads, few enough to keep
		// file handles bounded.
		s.sqlDB.SetMaxOpenConns(8)
		s.sqlDB.SetMaxIdleConns(8)
	case Postgres:
		s.sqlDB.SetMaxOpenConns(20)
		s.sqlDB.SetMaxIdleConns(10)
		s.sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := s.sqlDB.PingContext(ctx); err != nil {
		s.sqlDB.Close()
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
	return s, nil
}

// openSQLiteGorm opens a GORM database on a pool of SQLite connections that
// keep their prepared statements (see stmtCacheConn).
func openSQLiteGorm(path string, cfg *gorm.Config) (*gorm.DB, error) {
	dsn := sqliteDSN(strings.TrimSuffix(path, "?writer"))
	if strings.HasSuffix(path, "?writer") {
		dsn += "&_cache_size=-16384"
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
	// Version 41 is Go: it attaches the bookings made before patient records
	// existed to records, with the rule new bookings follow.
	postgres := s.dialect == Postgres
	opts = append(opts, goose.WithGoMigrations(goose.NewGoMigration(41,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return backfillPatients(ctx, tx, postgres) }},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "UPDATE bookings SET patient_id = NULL")
			return err
		}})))
	p, err := goose.NewProvider(dialect, s.sqlDB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		log.InfoContext(ctx, "migration applied", "version", r.Source.Version, "duration", r.Duration)
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
	if s.stopCheckpointer != nil {
		s.stopCheckpointer()
	}
	s.watch.close()
	if s.wsqlDB != s.sqlDB {
		s.wsqlDB.Close()
	}
	return s.sqlDB.Close()
}

// tx runs fn in one transaction. On SQLite the transaction holds the write
// lock from its start (see sqliteDSN), so a read-check-write inside fn cannot
// interleave with another writer; calls that wait for the writer at the same
// time share one transaction, each in a savepoint of its own, and return
// once it has committed (see sqliteWriter). fn must not call tx again.
//
// A transaction that wrote to the tables availability is read from moves
// AvailabilityVersion once it has ended (see availabilityVersion), whether
// it committed or not: a needless move only costs a cache miss.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if _, nested := ctx.Value(txMarkKey{}).(*txMark); nested {
		return errors.New("store: a transaction inside a transaction")
	}
	m := &txMark{}
	ctx = withTxMark(ctx, m)
	var err error
	if s.writer != nil {
		err = s.writer.run(ctx, func(sqlTx *sql.Tx) error {
			// Once started, a call runs to its end: an interrupted
			// statement would fail the others of the batch.
			tx := s.wdb.WithContext(context.WithoutCancel(ctx))
			tx.Statement.ConnPool = sqlTx
			return fn(tx)
		})
	} else {
		err = s.wdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := fn(tx); err != nil {
				return err
			}
			if m.dirty.Load() {
				// Delivered to the other instances at commit (see onWrite).
				return tx.Exec("SELECT pg_notify(?, '')", availabilityChannel).Error
			}
			return nil
		})
	}
	if m.dirty.Load() {
		s.avail.bump()
	}
	return err
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
