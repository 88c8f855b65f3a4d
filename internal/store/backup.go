package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// ErrBackupPostgres is returned by Backup for a PostgreSQL database, which
// has its own tools for consistent copies.
var ErrBackupPostgres = errors.New("backup copies SQLite databases only; for PostgreSQL use pg_dump (for example pg_dump -Fc -f clinic.dump DATABASE_URL) and pg_restore")

// Backup writes a consistent copy of the SQLite database at rawURL to file,
// while servers may be reading and writing it: SQLite's VACUUM INTO copies
// one read transaction's snapshot (a WAL reader never blocks the writer,
// nor is blocked by it), and the copy is a complete, compacted database,
// readable by the service's user only (0600). It does not migrate or
// otherwise change the database, and refuses to overwrite file.
func Backup(ctx context.Context, rawURL, file string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("backup: parse database url: %w", err)
	}
	switch u.Scheme {
	case "sqlite":
	case "postgres", "postgresql":
		return ErrBackupPostgres
	default:
		return fmt.Errorf("backup: unknown database scheme %q", u.Scheme)
	}
	path := strings.TrimPrefix(rawURL, "sqlite://")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: database file: %w", err)
	}
	// VACUUM INTO needs a missing or empty target; creating it empty first
	// gives it the right mode, and O_EXCL refuses to overwrite a file.
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: create %s: %w", file, err)
	}
	f.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(file)
		}
	}()
	// mode=ro: the backup never writes to the live database (no migration,
	// no journal-mode change); WAL readers still see the newest commits.
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=30000")
	if err != nil {
		return fmt.Errorf("backup: open database: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", file); err != nil {
		return fmt.Errorf("backup: copy: %w", err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	done = true
	return nil
}
