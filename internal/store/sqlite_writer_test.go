package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm"
)

func openSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "w.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.db.Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)").Error; err != nil {
		t.Fatal(err)
	}
	return s
}

func notes(t *testing.T, s *Store) []string {
	t.Helper()
	var got []string
	if err := s.db.Raw("SELECT body FROM notes ORDER BY body").Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	return got
}

// Calls that share a batch stay separate: one that fails, or panics, leaves
// nothing behind and does not disturb the others, which see each other's
// writes in order, as they would one transaction after another.
func TestWriterBatchesKeepCallsApart(t *testing.T) {
	s := openSQLite(t)
	ctx := context.Background()
	const n = 40
	errBoom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, n)
	panics := make([]any, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			<-start
			errs[i] = s.tx(ctx, func(tx *gorm.DB) error {
				if err := tx.Exec("INSERT INTO notes (body) VALUES (?)", fmt.Sprintf("note %02d", i)).Error; err != nil {
					return err
				}
				switch i % 4 {
				case 1:
					return errBoom // written, then undone
				case 2:
					panic(fmt.Sprintf("panic %d", i))
				case 3:
					// A constraint error mid-call: the statement fails, the
					// call returns it, and its first insert goes too.
					return tx.Exec("INSERT INTO notes (body) VALUES (?)", fmt.Sprintf("note %02d", i)).Error
				}
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()
	var want []string
	for i := range n {
		switch i % 4 {
		case 0:
			if errs[i] != nil || panics[i] != nil {
				t.Errorf("call %d: %v %v, want success", i, errs[i], panics[i])
			}
			want = append(want, fmt.Sprintf("note %02d", i))
		case 1:
			if !errors.Is(errs[i], errBoom) {
				t.Errorf("call %d: got %v, want its own error", i, errs[i])
			}
		case 2:
			if panics[i] != fmt.Sprintf("panic %d", i) {
				t.Errorf("call %d: got panic %v, want its own panic raised in its caller", i, panics[i])
			}
		case 3:
			if !isUniqueViolation(errs[i]) {
				t.Errorf("call %d: got %v, want a unique violation", i, errs[i])
			}
		}
	}
	if got := notes(t, s); !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
}

// A call whose context ends while it waits for the writer never runs.
func TestWriterDropsCancelledCalls(t *testing.T) {
	s := openSQLite(t)
	hold := make(chan struct{})
	running := make(chan struct{})
	go func() {
		_ = s.tx(context.Background(), func(tx *gorm.DB) error {
			close(running)
			<-hold // keeps the writer busy
			return tx.Exec("INSERT INTO notes (body) VALUES ('first')").Error
		})
	}()
	<-running
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- s.tx(ctx, func(tx *gorm.DB) error {
			return tx.Exec("INSERT INTO notes (body) VALUES ('cancelled')").Error
		})
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call: got %v, want context.Canceled", err)
	}
	close(hold)
	if err := s.tx(context.Background(), func(tx *gorm.DB) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := notes(t, s); !slices.Equal(got, []string{"first"}) {
		t.Errorf("stored %v, want only the first call's note", got)
	}
}

// A transaction inside a transaction is refused rather than waiting forever
// for the writer it holds.
func TestWriterRefusesNestedTransactions(t *testing.T) {
	s := openSQLite(t)
	err := s.tx(context.Background(), func(tx *gorm.DB) error {
		return s.tx(tx.Statement.Context, func(*gorm.DB) error { return nil })
	})
	if err == nil {
		t.Fatal("nested transaction: got nil error")
	}
}

// The statement cache lends a statement to one use at a time: the same query
// run again while its rows are still open gets a statement of its own.
func TestStatementCacheWithOpenRows(t *testing.T) {
	s := openSQLite(t)
	ctx := context.Background()
	for i := range 3 {
		if err := s.db.Exec("INSERT INTO notes (body) VALUES (?)", fmt.Sprint(i)).Error; err != nil {
			t.Fatal(err)
		}
	}
	const q = "SELECT body FROM notes WHERE body >= ? ORDER BY body"
	for range 2 { // the second time from the cache
		err := s.tx(ctx, func(tx *gorm.DB) error {
			outer, err := tx.Raw(q, "0").Rows()
			if err != nil {
				return err
			}
			defer outer.Close()
			var got []string
			for outer.Next() {
				var b string
				if err := outer.Scan(&b); err != nil {
					return err
				}
				var inner []string
				if err := tx.Raw(q, b).Scan(&inner).Error; err != nil {
					return err
				}
				got = append(got, fmt.Sprintf("%s:%d", b, len(inner)))
			}
			if want := []string{"0:3", "1:2", "2:1"}; !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			return outer.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
