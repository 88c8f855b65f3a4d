package store

import (
	"context"
	"time"
)

// SQLite in WAL mode appends every commit to the write-ahead log and copies
// the log back into the database file at checkpoints, which also fsync both
// files. By default the connection whose commit pushes the log past 1000
// pages runs the checkpoint inside that commit: every seventieth booking or
// so would wait for two fsyncs, and the whole write queue behind it (one
// writer at a time). Instead the writer connection only checkpoints as a
// safety net, past writerAutocheckpoint pages, and a background goroutine
// runs a PASSIVE checkpoint every checkpointEvery on a reader connection:
// it copies what it can without blocking the writer or the readers.
const (
	checkpointEvery      = 200 * time.Millisecond
	writerAutocheckpoint = 10000 // pages, about 40 MB of log
)

// startCheckpointer configures the writer connection and starts the
// background checkpoints; Close stops them.
func (s *Store) startCheckpointer(ctx context.Context) error {
	if _, err := s.wsqlDB.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 10000"); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// A failure (the database busy, say) is retried at the next tick.
			_, _ = s.sqlDB.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}()
	s.stopCheckpointer = func() {
		cancel()
		<-done
	}
	return nil
}
