// Package webhookrelay delivers webhooks on the service's delivery queue
// (package delivery): a relay that follows the live feed writes, for each
// booking change, one delivery row per interested endpoint and one queue
// job per row; the job's handler makes one signed attempt and records its
// outcome, and the queue retries it on the Standard Webhooks schedule.
// What a webhook is (endpoints, signing, the address guard, the schedule)
// is package webhook's, which has no database in it.
package webhookrelay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/webhook"
)

// Args are a webhook job's arguments: the delivery row to attempt.
type Args struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind names webhook jobs in the queue.
func (Args) Kind() string { return "webhook" }

// Queue is the delivery queue webhooks are worked in, apart from patient
// messages: an endpoint that hangs holds a worker for the whole attempt
// timeout, and a backlog of such attempts must not delay a patient's email.
// Give it to delivery.Config.Queues with QueueWorkers.
const Queue = "webhooks"

// QueueWorkers is how many webhook attempts one instance makes at once.
const QueueWorkers = 10

// InsertOpts puts webhook jobs in their own queue.
func (Args) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// Config configures a Sender.
type Config struct {
	Guard webhook.Guard
	// Render makes a change's webhook body.
	Render store.WebhookRender
	// Timeout bounds one attempt; 0 means 10 seconds.
	Timeout time.Duration
	// ScheduleScale multiplies the retry schedule's waits; 0 means 1.
	// Tests shrink it rather than wait minutes.
	ScheduleScale float64
	// GiveUp ends a delivery whose next attempt would come this long after
	// its first (the queue's DELIVERY_GIVE_UP); 0 means never by time, only
	// once the schedule is exhausted.
	GiveUp time.Duration
	Log    *slog.Logger
	Now    func() time.Time
}

// Sender delivers webhooks.
type Sender struct {
	cfg     Config
	store   *store.Store
	client  *http.Client
	results *prometheus.CounterVec
	queue   *delivery.Queue
}

// New returns a Sender of the webhooks of st's endpoints. Like every
// follower of the live feed (see delivery.Follower): Register it before
// building the queue, Attach the queue after, and run Relay.
func New(cfg Config, st *store.Store) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ScheduleScale <= 0 {
		cfg.ScheduleScale = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sender{
		cfg:    cfg,
		store:  st,
		client: cfg.Guard.Client(cfg.Timeout),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhook_deliveries_total",
			Help: "Webhook delivery attempts by result: success (a 2xx answer), retry (failed; another attempt is scheduled), failed (failed and given up, or 410 Gone).",
		}, []string{"result"}),
	}
	for _, r := range []string{"success", "retry", "failed"} {
		s.results.WithLabelValues(r)
	}
	return s
}

// Collectors returns the webhooks' metrics, to register:
// webhook_deliveries_total.
func (s *Sender) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.results}
}

// Register adds the webhook handler, with the Standard Webhooks schedule, to
// the queue's workers. Call it before delivery.New.
func (s *Sender) Register(ws *delivery.Workers) {
	delivery.Register(ws, s.attempt, s.wait)
}

// Attach gives s the queue it writes webhook jobs to. Call it once q
// exists, before Relay.
func (s *Sender) Attach(q *delivery.Queue) { s.queue = q }

// RelayCursor names the live-feed cursor of webhooks (see store.FollowFeed).
const RelayCursor = "webhooks"

// Relay queues the webhooks of booking changes as they commit, until ctx
// ends: it follows the live feed and writes, for each event, a delivery
// row per interested endpoint and a queue job per row, in the transaction
// that moves its cursor past the event. Each change is reported exactly
// once to each endpoint active when the relay reaches it (a few tens of
// milliseconds after the commit), and a booking request writes nothing
// for webhooks. Every instance runs a relay; they take turns on the cursor.
func (s *Sender) Relay(ctx context.Context) {
	s.store.ReadFeed(ctx, RelayCursor, s.write, s.cfg.Log)
}

// CatchUp queues the webhooks of every change committed so far that the
// relay has not passed, and returns once it has.
func (s *Sender) CatchUp(ctx context.Context) error {
	return s.store.CatchUpFeed(ctx, RelayCursor, s.write)
}

// write queues the webhooks of events in tx (a store.FeedFunc).
func (s *Sender) write(ctx context.Context, tx *sql.Tx, events []store.FeedEvent) error {
	if s.queue == nil {
		return errors.New("webhooks: not attached to a queue")
	}
	ds, err := s.store.QueueWebhookDeliveries(ctx, tx, events, s.cfg.Render)
	if err != nil || len(ds) == 0 {
		return err
	}
	jobs := make([]delivery.Insert, len(ds))
	for i, d := range ds {
		jobs[i] = delivery.Insert{Args: Args{DeliveryID: d.ID.String()}}
	}
	return s.queue.InsertTx(ctx, tx, jobs...)
}

// CheckURL validates an endpoint URL with the guard (see webhook.Guard).
func (s *Sender) CheckURL(ctx context.Context, rawURL string) error {
	return s.cfg.Guard.CheckURL(ctx, rawURL)
}

// Redeliver queues delivery id again, now (see store.RedeliverWebhook).
func (s *Sender) Redeliver(ctx context.Context, id uuid.UUID) (webhook.Delivery, error) {
	if s.queue == nil {
		return webhook.Delivery{}, errors.New("redeliver: webhooks are not attached to a queue")
	}
	return s.store.RedeliverWebhook(ctx, id, func(ctx context.Context, tx *sql.Tx, d webhook.Delivery) error {
		return s.queue.InsertTx(ctx, tx, delivery.Insert{Args: Args{DeliveryID: d.ID.String()}})
	})
}

// wait is the queue's retry schedule: the Standard Webhooks waits, scaled.
func (s *Sender) wait(attempt int) time.Duration {
	d, ok := webhook.NextAttempt(attempt, s.cfg.ScheduleScale)
	if !ok {
		d, _ = webhook.NextAttempt(len(webhook.Schedule), s.cfg.ScheduleScale)
	}
	return d
}

// errGiveUp ends a delivery for good.
var errGiveUp = errors.New("given up")

// attempt is the queue handler: one attempt of one delivery.
func (s *Sender) attempt(ctx context.Context, j delivery.Job[Args]) error {
	id, err := uuid.Parse(j.Args.DeliveryID)
	if err != nil {
		return delivery.Permanent(fmt.Errorf("webhook job: %w", err))
	}
	a, err := s.store.WebhookAttemptFor(ctx, id)
	if errors.Is(err, booking.ErrNotFound) {
		return nil // the endpoint was deleted, and its deliveries with it
	}
	if err != nil {
		return err // the database: try again later
	}
	if a.Delivery.Status != webhook.DeliveryPending {
		return nil // done already (a job queued twice, by a redelivery)
	}
	now := s.cfg.Now()
	if !a.Endpoint.Active {
		s.results.WithLabelValues("failed").Inc()
		if err := s.store.RecordWebhookAttempt(ctx, id, store.WebhookOutcome{
			At: now, Result: webhook.Result{Err: "not sent: the endpoint is inactive"}, Status: webhook.DeliveryFailed,
		}); err != nil {
			return err
		}
		return delivery.Permanent(errors.New("the endpoint is inactive"))
	}

	r := webhook.Send(ctx, s.client, a.Endpoint, a.Delivery.ID.String(), now, a.Body)
	out := store.WebhookOutcome{At: now, Result: r}
	attempts := a.Delivery.Attempts + 1
	var ret error
	switch {
	case r.Success:
		out.Status = webhook.DeliverySucceeded
		s.results.WithLabelValues("success").Inc()
	case r.Gone:
		out.Status = webhook.DeliveryFailed
		out.Disable = "the endpoint answered 410 Gone"
		s.results.WithLabelValues("failed").Inc()
		s.cfg.Log.Warn("webhook endpoint answered 410 Gone; disabled", "endpoint_id", a.Endpoint.ID.String())
		ret = delivery.Permanent(fmt.Errorf("%w: 410 Gone", errGiveUp))
	default:
		wait, more := webhook.NextAttempt(attempts, s.cfg.ScheduleScale)
		next := now.Add(wait)
		if more && (s.cfg.GiveUp <= 0 || next.Sub(a.Delivery.StartedAt) <= s.cfg.GiveUp) {
			out.Status = webhook.DeliveryPending
			out.Next = &next
			s.results.WithLabelValues("retry").Inc()
			ret = errors.New(r.Err)
		} else {
			out.Status = webhook.DeliveryFailed
			s.results.WithLabelValues("failed").Inc()
			ret = delivery.Permanent(fmt.Errorf("%w after %d attempts: %s", errGiveUp, attempts, r.Err))
		}
	}
	// Recorded even when the job's context has ended: the attempt happened.
	if err := s.store.RecordWebhookAttempt(context.WithoutCancel(ctx), id, out); err != nil {
		return err
	}
	return ret
}
