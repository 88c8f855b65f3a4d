// Package expiry runs the service's housekeeping job: it moves pending
// booking requests that nobody confirmed within PENDING_EXPIRY to expired,
// which releases their places, and forgets Idempotency-Keys past their 24
// hours. Several server instances may run it at once: every expiry is a
// locked, compare-and-swap transition in the store, so a booking is expired
// once whoever gets there first, and a booking confirmed meanwhile is left
// alone.
package expiry

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/clinic/consult/internal/store"
)

// Store is what the job needs of the storage; *store.Store has it.
type Store interface {
	// ExpirePending expires the pending bookings created before
	// createdBefore, as the system at now, and returns how many.
	ExpirePending(ctx context.Context, createdBefore, now time.Time) (int, error)
	// PurgeIdempotencyKeys deletes the keys created before before.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)
}

var _ Store = (*store.Store)(nil)

// Config tunes the job.
type Config struct {
	PendingExpiry time.Duration    // a pending request this old expires; 0 turns expiry off
	Interval      time.Duration    // time between runs; 0 means one minute
	Now           func() time.Time // nil means time.Now
	Log           *slog.Logger     // nil means no logging
	// OnExpired, when set, is told how many bookings each run expired (for
	// the booking_transitions_total metric).
	OnExpired func(n int)
}

// RunOnce does one pass of the job at cfg.Now.
func RunOnce(ctx context.Context, st Store, cfg Config) error {
	cfg = cfg.withDefaults()
	now := cfg.Now()
	if cfg.PendingExpiry > 0 {
		n, err := st.ExpirePending(ctx, now.Add(-cfg.PendingExpiry), now)
		if n > 0 {
			cfg.Log.InfoContext(ctx, "pending booking requests expired", "count", n)
			if cfg.OnExpired != nil {
				cfg.OnExpired(n)
			}
		}
		if err != nil {
			return err
		}
	}
	if _, err := st.PurgeIdempotencyKeys(ctx, now.Add(-store.IdempotencyTTL)); err != nil {
		return err
	}
	return nil
}

// Start runs the job at once and then every cfg.Interval in its own
// goroutine until ctx ends or stop is called; stop also waits for a run in
// progress to finish, so call it before closing the store. A failed run is
// logged (without patient data: store errors carry none) and the next one
// tries again.
func Start(ctx context.Context, st Store, cfg Config) (stop func()) {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(cfg.Interval)
		defer t.Stop()
		for {
			if err := RunOnce(ctx, st, cfg); err != nil && ctx.Err() == nil {
				cfg.Log.ErrorContext(ctx, "expiry job failed", "error", err.Error())
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}
