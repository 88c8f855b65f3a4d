// Package horizon keeps the clinic's slots coming: it generates every
// active schedule up to MAX_ADVANCE ahead (the furthest a patient may
// book), so that a clinic that set its week once never runs out of
// bookable time.
//
// A schedule is generated through MAX_ADVANCE when it is created (by the
// store, in the creating transaction); this job then adds the days that
// come into range as time passes. It runs on the delivery queue (River) as
// a periodic job: at start and every Interval, inserted by the instances'
// elected leader, so one instance runs it at a time. That alone is not what
// keeps the slots single: store.KeepSchedulesAhead extends each schedule
// under the schedule's row lock and records how far it got
// (generated_through), so a run that races another (a retried job, a new
// leader's first run, a schedule being created) makes nothing twice, and a
// run with nothing new to make writes nothing.
package horizon

import (
	"context"
	"log/slog"
	"time"

	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
)

// Interval is how often the job runs. Hourly rather than daily: each
// location's day turns at its own midnight, and a run with nothing to add
// costs one read of the schedules.
const Interval = time.Hour

// Store is what the job needs of the storage; *store.Store has it.
type Store interface {
	// KeepSchedulesAhead generates every active schedule through the date
	// of now+ahead in its location's time zone.
	KeepSchedulesAhead(ctx context.Context, now time.Time, ahead time.Duration) (store.AheadResult, error)
}

var _ Store = (*store.Store)(nil)

// Config tunes the job.
type Config struct {
	Ahead time.Duration    // MAX_ADVANCE
	Now   func() time.Time // nil means time.Now
	Log   *slog.Logger     // nil means no logging
}

// Job is the rolling generation.
type Job struct {
	store Store
	cfg   Config
}

// New returns the job over st.
func New(st Store, cfg Config) *Job {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Job{store: st, cfg: cfg}
}

// Args are the periodic job's (empty) arguments on the queue.
type Args struct{}

// Kind names the job on the queue.
func (Args) Kind() string { return "schedule_horizon" }

// Register adds the job to ws, to run at start and every Interval once
// the queue starts.
func (j *Job) Register(ws *delivery.Workers) {
	delivery.RegisterPeriodic(ws, func(ctx context.Context, _ delivery.Job[Args]) error {
		_, err := j.Run(ctx)
		return err
	}, Interval, Args{})
}

// Run does one pass at the job's clock. A failure is returned (the queue
// retries the job) and logged; schedules held back by an inactive
// provider, location or consultation type are not failures.
func (j *Job) Run(ctx context.Context) (store.AheadResult, error) {
	res, err := j.store.KeepSchedulesAhead(ctx, j.cfg.Now(), j.cfg.Ahead)
	if res.Created > 0 || res.Unavailable > 0 {
		j.cfg.Log.InfoContext(ctx, "schedules generated ahead", "schedules", res.Extended, "slots_created", res.Created,
			"slots_skipped", res.Skipped, "schedules_unavailable", res.Unavailable)
	}
	if err != nil {
		j.cfg.Log.ErrorContext(ctx, "generating schedules ahead failed", "error", err.Error())
	}
	return res, err
}
