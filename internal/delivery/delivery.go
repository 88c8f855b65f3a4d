// Package delivery delivers the messages booking changes cause (patient
// emails and texts, and any other kind plugged in, such as webhook
// deliveries) on a durable job queue: River (github.com/riverqueue/river),
// with its SQLite and database/sql (PostgreSQL) drivers.
//
// # Guarantees
//
//   - A message is a job row written in a transaction of the caller's
//     (Queue.InsertTx). Booking changes' messages are written by relays that
//     follow the live feed (store.FollowFeed), in the transaction that moves
//     their cursor past the change's feed event: a change that commits has
//     its messages, exactly once; one that rolls back has none.
//   - Every server instance runs workers (Queue.Start). River hands a job to
//     one worker at a time: on PostgreSQL its fetch locks rows with FOR UPDATE
//     SKIP LOCKED, on SQLite the fetch is one UPDATE in a write transaction,
//     which SQLite runs one at a time. A worker killed mid-delivery leaves its
//     job "running"; River's rescuer makes it available again once it has run
//     longer than Config.Lease, so it is retried, at most twice
//     delivered, never lost.
//   - A failed attempt is retried after the kind's Schedule (by default
//     exponential backoff with full jitter, DefaultSchedule); once the first
//     failure is older than the give-up period (DELIVERY_GIVE_UP) the job is
//     given up and ends "cancelled", listed as failed (Queue.Failed) with its
//     last error, and can be retried by an admin (Queue.Retry).
//   - Each message carries a stable id of its own (a UUID in its arguments,
//     the same on every attempt) that handlers send as Message-ID or
//     idempotency key, so receivers can drop a repeat.
//   - Scheduled messages (reminders) are jobs with a run time in the future.
//   - A message that turned out moot (Skipped) ends without being sent and
//     is listed as skipped, with why; one that must wait for another to go
//     out first (Later) is tried again shortly, which is no failed attempt.
//
// # Why River fits the store
//
// River inserts a job through the caller's *sql.Tx on both drivers. On
// PostgreSQL GORM runs over pgx's database/sql adapter, so the change's
// transaction is a *sql.Tx, which riverdatabasesql takes. On SQLite the
// store runs transactions through a single writer connection with group
// commit (several calls in one transaction, each in a savepoint): River's
// insert is plain statements on that *sql.Tx, so it rolls back with its
// call's savepoint. River's own writes (fetching, completing, rescuing) run
// on the same single connection (store.QueueDB), taking turns with the
// store's transactions in Go instead of contending for SQLite's file lock;
// idle, River commits about once every ten seconds. PostgreSQL has no
// LISTEN through database/sql, so workers poll (PollInterval).
//
// The price is River's job row: its insert (arguments converted to JSONB,
// five indexes) adds roughly 0.1 to 0.2 ms to a SQLite booking transaction
// of about 0.5 ms, which the single writer feels at saturation (see
// BENCHMARKS.md). Callers keep the rows few: one per message the change
// itself causes, and scheduled messages far ahead (reminders) are inserted
// by a periodic job (RegisterPeriodic) when their time comes near, not with
// every change.
//
// # Adding a kind
//
// A new kind of message (webhook deliveries, say) needs arguments, a
// handler and a retry schedule:
//
//	type WebhookArgs struct{ MessageID string; EndpointID string; ... }
//	func (WebhookArgs) Kind() string { return "webhook" }
//
//	delivery.Register(workers, func(ctx context.Context, j delivery.Job[WebhookArgs]) error {
//		... post it; return an error to retry, delivery.Permanent(err) to give up now
//	}, delivery.FixedSchedule(5*time.Second, 5*time.Minute, 30*time.Minute, ...))
//
// then pass workers to New and insert jobs with Queue.InsertTx from a
// store.FeedFunc run by store.ReadFeed: a Follower of the live feed
// (packages notify and webhookrelay are two, and cmd/server's
// setUpDeliveries sets them up). Count a kind's outcomes with
// Workers.OnOutcome; run a kind on a timer with RegisterPeriodic.
package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// Schedule returns how long to wait before the next attempt after attempt
// failed attempts (1 after the first failure).
type Schedule func(attempt int) time.Duration

// Backoff is exponential backoff with full jitter: after the n-th failure
// it waits a random time up to base * 2^(n-1), capped at one hour, and at
// least a tenth of base. Full jitter spreads the retries of messages that
// failed together (a mail server that was down) instead of sending them
// back in one burst.
func Backoff(base time.Duration) Schedule {
	return func(attempt int) time.Duration {
		attempt = min(max(attempt, 1), 30)
		ceiling := time.Hour
		if next := base << (attempt - 1); next > 0 && next < time.Hour {
			ceiling = next
		}
		return max(base/10, rand.N(ceiling))
	}
}

// DefaultSchedule is Backoff(10 * time.Second).
var DefaultSchedule = Backoff(10 * time.Second)

// FixedSchedule waits delays[n-1] after the n-th failure, and the last delay
// after any later one, each with up to 10% jitter either way (the Standard
// Webhooks schedule is such a list).
func FixedSchedule(delays ...time.Duration) Schedule {
	return func(attempt int) time.Duration {
		d := delays[min(max(attempt, 1), len(delays))-1]
		if d <= 0 {
			return 0
		}
		return d + time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	}
}

// Job is what a handler gets: the job's arguments and its attempt.
type Job[T river.JobArgs] struct {
	ID        int64     // the queue's id of the job (the admin routes' message id)
	Attempt   int       // 1 on the first attempt
	CreatedAt time.Time // when it was written, in the transaction of its cause
	Args      T
}

// Handler delivers one message. It returns nil once the receiver has
// accepted it, an error to try again later, or Permanent(err) when trying
// again cannot help.
type Handler[T river.JobArgs] func(ctx context.Context, j Job[T]) error

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix (an address the
// receiver refuses for good): the message fails at once.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// ErrSkip is what a handler returns when the message turned out to be moot
// (a reminder for an appointment that moved, a patient who withdrew
// consent): the job ends as done, counted and listed as skipped (see
// Skipped to say why).
var ErrSkip = errors.New("message skipped")

// Skipped is ErrSkip with the reason admins see in the message list.
func Skipped(reason string) error { return skipError{reason} }

type skipError struct{ reason string }

func (e skipError) Error() string        { return ErrSkip.Error() + ": " + e.reason }
func (e skipError) Is(target error) bool { return target == ErrSkip }

// skipReasonOf returns why err (an ErrSkip) skipped its message.
func skipReasonOf(err error) string {
	var s skipError
	if errors.As(err, &s) {
		return s.reason
	}
	return "moot"
}

// Later is what a handler returns when its message must wait for another
// to go out first: the job is tried again after d, and the wait counts
// neither as an attempt nor as a failure.
func Later(d time.Duration) error { return laterError{d} }

type laterError struct{ d time.Duration }

func (e laterError) Error() string { return "message waits " + e.d.String() }

// Outcome is how an attempt ended, for metrics.
type Outcome string

// Outcomes of an attempt.
const (
	Sent   Outcome = "sent"    // the receiver accepted it
	Retry  Outcome = "retry"   // it failed and will be tried again
	Failed Outcome = "failed"  // it failed and was given up
	Skip   Outcome = "skipped" // moot; nothing was sent (see ErrSkip)
)

// Workers collects the handlers of every kind, before New.
type Workers struct {
	w              *river.Workers
	periodic       []*river.PeriodicJob
	attemptTimeout time.Duration // set by New
	giveUp         time.Duration
	observers      []func(kind string, o Outcome)
	log            *slog.Logger
}

// NewWorkers returns an empty set of handlers that give a message up once
// its first failure is older than giveUp, and report each attempt's outcome
// to observe (nil: to nobody). Handlers registered without a schedule use
// DefaultSchedule.
func NewWorkers(giveUp time.Duration, log *slog.Logger, observe func(kind string, o Outcome)) *Workers {
	ws := &Workers{w: river.NewWorkers(), giveUp: giveUp, log: log}
	if observe != nil {
		ws.OnOutcome(observe)
	}
	return ws
}

// OnOutcome adds f to the functions told of every attempt's outcome (each
// kind's metrics, say). Call it before New.
func (ws *Workers) OnOutcome(f func(kind string, o Outcome)) {
	ws.observers = append(ws.observers, f)
}

func (ws *Workers) observe(kind string, o Outcome) {
	for _, f := range ws.observers {
		f(kind, o)
	}
}

// Register adds the handler of the kind T names, with its retry schedule
// (nil: DefaultSchedule).
func Register[T river.JobArgs](ws *Workers, h Handler[T], schedule Schedule) {
	RegisterWith(ws, h, KindOptions{Schedule: schedule})
}

// KindOptions are a kind's own delivery rules.
type KindOptions struct {
	Schedule Schedule      // nil: DefaultSchedule
	GiveUp   time.Duration // 0: the Workers' (DELIVERY_GIVE_UP)
}

// RegisterWith adds the handler of the kind T names with its own rules: a
// kind whose retry schedule runs longer than the general give-up period
// (the Standard Webhooks one spans more than a day) sets its own.
func RegisterWith[T river.JobArgs](ws *Workers, h Handler[T], o KindOptions) {
	if o.Schedule == nil {
		o.Schedule = DefaultSchedule
	}
	river.AddWorker(ws.w, &worker[T]{h: h, schedule: o.Schedule, giveUp: o.GiveUp, ws: ws})
}

// RegisterPeriodic adds the handler of kind T, run every interval (and once
// at start) by one instance at a time: the elected leader of the instances
// inserts the job, and any instance's worker runs it.
func RegisterPeriodic[T river.JobArgs](ws *Workers, h Handler[T], every time.Duration, args T) {
	Register(ws, h, nil)
	ws.periodic = append(ws.periodic, river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return args, nil }, &river.PeriodicJobOpts{RunOnStart: true}))
}

// giveUpPrefix starts the error a job ends with when it is given up; an
// admin's retry starts a new give-up period after it (see firstFailure).
const giveUpPrefix = "gave up: "

type worker[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	h        Handler[T]
	schedule Schedule
	giveUp   time.Duration // 0: ws.giveUp
	ws       *Workers
}

func (w *worker[T]) NextRetry(job *river.Job[T]) time.Time {
	return time.Now().Add(w.schedule(job.Attempt))
}

// Timeout bounds one attempt; RescueAfter is larger.
func (w *worker[T]) Timeout(*river.Job[T]) time.Duration { return w.ws.attemptTimeout }

func (w *worker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	err := w.h(ctx, Job[T]{ID: job.ID, Attempt: job.Attempt, CreatedAt: job.CreatedAt, Args: job.Args})
	kind := job.Kind
	if err == nil {
		w.ws.observe(kind, Sent)
		return nil
	}
	if errors.Is(err, ErrSkip) {
		// The reason, kept in the job's output, is what lists it as
		// skipped rather than sent (see skippedSQL).
		if rerr := river.RecordOutput(ctx, map[string]string{"skipped": skipReasonOf(err)}); rerr != nil {
			w.ws.log.Warn("skipped message: reason not recorded", "kind", kind, "job_id", job.ID, "error", rerr.Error())
		}
		w.ws.observe(kind, Skip)
		return nil
	}
	var later laterError
	if errors.As(err, &later) {
		return river.JobSnooze(later.d)
	}
	var perm permanentError
	now := time.Now()
	first := firstFailure(job.JobRow, now)
	giveUp := w.ws.giveUp
	if w.giveUp > 0 {
		giveUp = w.giveUp
	}
	if errors.As(err, &perm) || now.Add(w.schedule(job.Attempt)).Sub(first) > giveUp {
		w.ws.observe(kind, Failed)
		w.ws.log.Warn("message given up", "kind", kind, "job_id", job.ID, "attempt", job.Attempt, "error", err.Error())
		return river.JobCancel(fmt.Errorf("%s%w", giveUpPrefix, err))
	}
	w.ws.observe(kind, Retry)
	w.ws.log.Info("message attempt failed; will retry", "kind", kind, "job_id", job.ID, "attempt", job.Attempt, "error", err.Error())
	return err
}

// firstFailure returns when the job's current run of failures began: the
// first error recorded after the last give-up (an admin retried it since),
// or now when it has none.
func firstFailure(job *rivertype.JobRow, now time.Time) time.Time {
	var first time.Time
	for _, e := range job.Errors { // oldest first
		if strings.Contains(e.Error, giveUpPrefix) {
			first = time.Time{}
			continue
		}
		if first.IsZero() {
			first = e.At
		}
	}
	if first.IsZero() {
		return now
	}
	return first
}

// DefaultLease is the default Config.Lease.
const DefaultLease = 2 * time.Minute

// Config configures a Queue.
type Config struct {
	DB       *sql.DB // store.QueueDB
	Postgres bool    // false: SQLite
	Workers  *Workers
	// MaxWorkers bounds the messages one instance delivers at once.
	MaxWorkers int
	// Queues are further queues beside the default one, by name, each with
	// its own bound on the messages delivered at once. A kind whose
	// arguments name one (river.JobArgsWithInsertOpts) is worked there
	// only, so that its slow receivers (a webhook endpoint that hangs)
	// cannot hold up the others' (patient email).
	Queues map[string]int
	// Lease is how long a message may stay in delivery: one still
	// "running" this long after its attempt began is taken to have lost
	// its worker (killed, or its machine gone) and is retried. An attempt
	// is cut off at half of it. Default DefaultLease.
	Lease time.Duration
	// PollInterval is how often an instance looks for due jobs it has not
	// been told about (on PostgreSQL, all of them); default 500ms.
	PollInterval time.Duration
	Log          *slog.Logger
}

// Queue inserts and works the jobs.
type Queue struct {
	client   *river.Client[*sql.Tx]
	postgres bool
	db       *sql.DB
}

// New builds a Queue; Start starts its workers.
func New(cfg Config) (*Queue, error) {
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = 10
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	cfg.Workers.attemptTimeout = cfg.Lease / 2
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}}
	for name, n := range cfg.Queues {
		queues[name] = river.QueueConfig{MaxWorkers: max(n, 1)}
	}
	rc := &river.Config{
		Queues:               queues,
		Workers:              cfg.Workers.w,
		PeriodicJobs:         cfg.Workers.periodic,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(100*time.Millisecond, cfg.PollInterval),
		JobTimeout:           cfg.Lease / 2,
		RescueStuckJobsAfter: cfg.Lease,
		// Give-up is by time (see Workers), not by count.
		MaxAttempts: 10000,
		// Failed messages stay visible to admins for a month.
		CancelledJobRetentionPeriod: 30 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
		CompletedJobRetentionPeriod: 24 * time.Hour,
		Logger:                      cfg.Log,
	}
	var (
		client *river.Client[*sql.Tx]
		err    error
	)
	if cfg.Postgres {
		client, err = river.NewClient(riverdatabasesql.New(cfg.DB), rc)
	} else {
		client, err = river.NewClient(riversqlite.New(cfg.DB), rc)
	}
	if err != nil {
		return nil, fmt.Errorf("delivery queue: %w", err)
	}
	return &Queue{client: client, postgres: cfg.Postgres, db: cfg.DB}, nil
}

// Start starts this instance's workers; they run until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("delivery queue: start: %w", err)
	}
	return nil
}

// Stop lets the attempts under way finish (until ctx ends) and stops.
func (q *Queue) Stop(ctx context.Context) error {
	if err := q.client.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("delivery queue: stop: %w", err)
	}
	return nil
}

// Insert is one message to insert: its arguments and, for a scheduled
// message, when it is due (zero: now).
type Insert struct {
	Args  river.JobArgs
	RunAt time.Time
	// Unique skips the insert when a message of the same kind with the
	// same values in the arguments' fields tagged `river:"unique"` is
	// scheduled, pending or sent already.
	Unique bool
}

// Insert writes messages in a transaction of their own.
func (q *Queue) Insert(ctx context.Context, msgs ...Insert) error {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("insert messages: %w", err)
	}
	defer tx.Rollback()
	if err := q.InsertTx(ctx, tx, msgs...); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("insert messages: %w", err)
	}
	return nil
}

// InsertTx writes messages in tx, the caller's transaction: they are
// delivered once it commits, and never if it rolls back.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, msgs ...Insert) error {
	if len(msgs) == 0 {
		return nil
	}
	// Plain messages go in with River's fast insert (no rows read back);
	// unique ones with the insert that resolves a conflict by skipping.
	var fast, unique []river.InsertManyParams
	for _, m := range msgs {
		opts := &river.InsertOpts{ScheduledAt: m.RunAt}
		if m.Unique {
			opts.UniqueOpts = river.UniqueOpts{ByArgs: true}
			unique = append(unique, river.InsertManyParams{Args: m.Args, InsertOpts: opts})
			continue
		}
		fast = append(fast, river.InsertManyParams{Args: m.Args, InsertOpts: opts})
	}
	if len(fast) > 0 {
		if _, err := q.client.InsertManyFastTx(ctx, tx, fast); err != nil {
			return fmt.Errorf("insert messages: %w", err)
		}
	}
	if len(unique) > 0 {
		if _, err := q.client.InsertManyTx(ctx, tx, unique); err != nil {
			return fmt.Errorf("insert messages: %w", err)
		}
	}
	return nil
}
