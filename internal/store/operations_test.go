package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/clinic/consult/internal/limit"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// A database migrated by a newer server (a version this binary does not
// embed) is refused at start, with a message saying so.
func TestOpenRefusesNewerSchema(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			s, err := store.Open(context.Background(), url, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			db := rawDB(t, b.Name, url)
			if _, err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)"); err != nil {
				t.Fatal(err)
			}
			_, err = store.Open(context.Background(), url, slog.New(slog.DiscardHandler))
			if !errors.Is(err, store.ErrSchemaNewer) {
				t.Fatalf("open: got %v, want ErrSchemaNewer", err)
			}
			if !strings.Contains(err.Error(), "99999") || !strings.Contains(err.Error(), "newer") {
				t.Errorf("message %q should name the database's version and say it is newer", err)
			}
		})
	}
}

func rawDB(t *testing.T, backend, url string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if backend == "sqlite" {
		db, err = sql.Open("sqlite3", "file:"+strings.TrimPrefix(url, "sqlite://")+"?_busy_timeout=30000")
	} else {
		db, err = sql.Open("pgx", url)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The SQLite file, its -wal and -shm, and a folder Open creates are the
// service user's only.
func TestSQLiteFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "clinic.db")
	s := storetest.Open(t, "sqlite://"+path)
	// A write makes sure the WAL and its index exist.
	if _, err := s.RateCounter().Hit(context.Background(), time.Now(), []limit.Rule{{Key: "k", Max: 1, Window: time.Minute}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want fs.FileMode
	}{
		{dir, 0o700}, {path, 0o600}, {path + "-wal", 0o600}, {path + "-shm", 0o600},
	}
	for _, tt := range tests {
		fi, err := os.Stat(tt.path)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(tt.path), err)
			continue
		}
		if got := fi.Mode().Perm(); got != tt.want {
			t.Errorf("%s: got mode %o, want %o", filepath.Base(tt.path), got, tt.want)
		}
	}
}

// An existing, world-readable database file is narrowed to 0600 on open.
func TestOpenNarrowsAnExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clinic.db")
	s := storetest.Open(t, "sqlite://"+path)
	s.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	storetest.Open(t, "sqlite://"+path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("got mode %o, want 600", got)
	}
}

// A backup taken while writes go on is a complete, consistent database.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	url := "sqlite://" + filepath.Join(dir, "clinic.db")
	s := storetest.Open(t, url)
	rc := s.RateCounter()
	ctx := context.Background()
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("writer-%d-%d", w, i)
				if _, err := rc.Hit(ctx, time.Now(), []limit.Rule{{Key: key, Max: 10, Window: time.Hour}}); err != nil {
					t.Errorf("write: %v", err)
					return
				}
				written.Add(1)
			}
		}()
	}
	for written.Load() < 200 {
		time.Sleep(time.Millisecond)
	}
	file := filepath.Join(dir, "backup.db")
	err := store.Backup(ctx, url, file)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: got %v %v, want mode 600", fi.Mode().Perm(), err)
	}
	copyDB, err := sql.Open("sqlite3", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var check string
	if err := copyDB.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: got %q %v, want ok", check, err)
	}
	var rows int64
	if err := copyDB.QueryRow("SELECT count(*) FROM rate_counters").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows < 200 || rows > written.Load() {
		t.Errorf("rows in the copy: got %d, want 200 to %d", rows, written.Load())
	}
	// The copy is a database the server opens (and it is at the same schema).
	storetest.Open(t, "sqlite://"+file)

	if err := store.Backup(ctx, url, file); err == nil {
		t.Error("backup over an existing file: got nil, want an error")
	}
	if err := store.Backup(ctx, "postgres://db.example/clinic", filepath.Join(dir, "pg.db")); !errors.Is(err, store.ErrBackupPostgres) || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("postgres backup: got %v, want a pointer to pg_dump", err)
	}
}
