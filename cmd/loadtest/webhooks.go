package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/webhook"
	"github.com/clinic/consult/internal/webhookrelay"
)

// webhookBacklog measures booking requests while this instance's delivery
// workers chew through a backlog of webhook deliveries to a dead endpoint
// (connection refused: every attempt fails and is rescheduled), against the
// same requests with the workers stopped. The endpoint exists in both
// halves, so every booking writes its own delivery either way: the only
// difference is the workers' load. Turns: without, with, with, without.
func (r *runner) webhookBacklog(ctx context.Context, rep *report) error {
	c := r.cfg
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	dead := "http://" + ln.Addr().String() + "/hooks"
	ln.Close()

	log := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	snd := webhookrelay.New(webhookrelay.Config{
		Guard: webhook.Guard{AllowPrivate: true}, Render: httpapi.WebhookBody,
		GiveUp: 24 * time.Hour, Log: log,
	}, r.st)
	reg.MustRegister(snd.Collectors()...)
	ws := delivery.NewWorkers(24*time.Hour, log, nil)
	snd.Register(ws)
	q, err := delivery.New(delivery.Config{DB: r.st.QueueDB(), Postgres: r.st.Dialect() == store.Postgres, Workers: ws,
		Queues: map[string]int{webhookrelay.Queue: webhookrelay.QueueWorkers}, Log: log})
	if err != nil {
		return err
	}
	snd.Attach(q)
	// The relay writes each booking's delivery to the dead endpoint
	// throughout, as a server's does; the workers that attempt them run
	// only in the middle part.
	if err := snd.CatchUp(ctx); err != nil { // the seed's changes, before the endpoint exists
		return err
	}
	relayCtx, stopRelay := context.WithCancel(ctx)
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		snd.Relay(relayCtx)
	}()
	defer func() { stopRelay(); <-relayed }()
	secret, err := webhook.NewSecret()
	if err != nil {
		return err
	}
	now := time.Now()
	ep := webhook.Endpoint{ID: uuid.New(), URL: dead, EventTypes: []string{webhook.AllEvents}, Active: true,
		Secret: secret, CreatedAt: now, UpdatedAt: now}
	if err := r.st.CreateWebhookEndpoint(ctx, ep); err != nil {
		return err
	}

	half := c.duration / 2
	// Each run starts with the places the last one took given back; the
	// cancellations' deliveries are queued before it starts.
	var failed error
	run := func(name string, seed uint64) result {
		if failed == nil {
			failed = r.recyclePlaces(ctx)
		}
		if failed == nil {
			failed = snd.CatchUp(ctx)
		}
		if failed != nil {
			return result{name: name}
		}
		return drive(ctx, name, c.clients, c.warmup, half, seed, r.bookingCall())
	}
	a1 := run("booking, delivery workers stopped", c.seed)

	began := time.Now()
	if err := r.queueBacklog(ctx, q, c.webhookBacklog); err != nil {
		return fmt.Errorf("queue the webhook backlog: %w", err)
	}
	fmt.Fprintf(r.stderr, "  queued %d webhook deliveries to %s in %.1fs\n", c.webhookBacklog, dead, time.Since(began).Seconds())
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	b1 := run(fmt.Sprintf("booking, workers on a %d backlog", c.webhookBacklog), c.seed)
	b2 := run(fmt.Sprintf("booking, workers on a %d backlog", c.webhookBacklog), c.seed+1)
	attempts := counterSum(reg, "webhook_deliveries_total")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	err = q.Stop(stopCtx)
	cancel()
	if err != nil {
		return err
	}
	a2 := run("booking, delivery workers stopped", c.seed+1)
	if failed != nil {
		return failed
	}

	base, with := merge(a1, a2), merge(b1, b2)
	with.note = fmt.Sprintf("%.0f failed attempts meanwhile", attempts)
	fmt.Fprintf(r.stderr, "  %-40s %8d requests %9.0f req/s\n", base.name, base.requests, base.rate())
	fmt.Fprintf(r.stderr, "  %-40s %8d requests %9.0f req/s (%s)\n", with.name, with.requests, with.rate(), with.note)
	rep.add(row{res: base, baseline: true})
	rep.add(row{res: with, base: &base, goal: 0.7, goalText: ">= 70% of the same without, no 5xx", no5xx: true})
	return nil
}

// queueBacklog writes n deliveries of one booking's creation to every
// active endpoint, with their queue jobs, in transactions of 1,000: the
// same rows and jobs booking changes write, made in bulk.
func (r *runner) queueBacklog(ctx context.Context, q *delivery.Queue, n int) error {
	items, _, err := r.st.ListBookings(ctx, store.BookingFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("no booking to report")
	}
	b := items[0]
	change := []store.FeedEvent{{Type: booking.EventCreated.FeedType(), OccurredAt: b.Booking.CreatedAt, Booking: b.Booking, Slot: b.Slot, EventID: uuid.New()}}
	for done := 0; done < n; {
		tx, err := r.st.QueueDB().BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var jobs []delivery.Insert
		for ; done < n && len(jobs) < 1000; done++ {
			ds, err := r.st.QueueWebhookDeliveries(ctx, tx, change, httpapi.WebhookBody)
			if err != nil {
				tx.Rollback()
				return err
			}
			for _, d := range ds {
				jobs = append(jobs, delivery.Insert{Args: webhookrelay.Args{DeliveryID: d.ID.String()}})
			}
		}
		if err := q.InsertTx(ctx, tx, jobs...); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// counterSum adds up every series of the counter name in reg.
func counterSum(reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return 0
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
