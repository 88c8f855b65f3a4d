package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/notify"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/webhook"
	"github.com/clinic/consult/internal/webhookrelay"
)

// deliveries is the delivery queue and what travels on it.
type deliveries struct {
	queue    *delivery.Queue
	calendar httpapi.CalendarOptions
	webhooks *webhookrelay.Sender
	// waitlist offers freed places, and sends an entry's link again when
	// its patient joins a second time.
	waitlist *notify.WaitlistOffers
	// followers write their jobs from the live feed: patient messages and
	// webhooks.
	followers []delivery.Follower
}

// setUpDeliveries builds the delivery queue with the handlers of every kind
// of message and registers the metrics. The workers, and the relays that
// write patient messages and webhooks from the live feed, start with start.
//
// Each follower of the feed takes the same steps (see delivery.Follower):
// register its handlers on ws, then, once the queue exists, attach it.
func setUpDeliveries(cfg config.Config, st *store.Store, log *slog.Logger, reg *prometheus.Registry) (*deliveries, error) {
	ws := delivery.NewWorkers(cfg.DeliveryGiveUp, log, nil)

	// Patient email and text messages.
	patients, cal, err := patientMessages(cfg, st, log)
	if err != nil {
		return nil, err
	}

	// Webhooks, in a queue of their own so that a slow receiver cannot hold
	// up patient messages.
	if cfg.WebhookAllowPrivate {
		log.Warn("WEBHOOK_ALLOW_PRIVATE is on: webhooks may go to http URLs and private addresses; for local development and tests only")
	}
	hooks := webhookrelay.New(webhookrelay.Config{
		Guard: webhook.Guard{AllowPrivate: cfg.WebhookAllowPrivate}, Render: httpapi.WebhookBody,
		GiveUp: cfg.DeliveryGiveUp, Log: log.With("component", "webhooks"),
	}, st)

	// Waitlist offers: a freed place goes to the next matching entry.
	waitlist := notify.NewWaitlistOffers(notify.WaitlistConfig{
		Messages: patients.Config(), OfferTTL: cfg.WaitlistOfferTTL,
		Policy: booking.Policy{MinNotice: cfg.MinNotice, MaxAdvance: cfg.MaxAdvance, HoldTTL: cfg.HoldTTL},
	}, st)

	followers := []delivery.Follower{patients, hooks, waitlist}
	for _, f := range followers {
		f.Register(ws)
	}
	// The rolling slot generation runs on the same queue (its periodic
	// jobs elect one instance to run them).
	registerScheduleHorizon(ws, cfg, st, log)

	q, err := delivery.New(delivery.Config{
		DB: st.QueueDB(), Postgres: st.Dialect() == store.Postgres, Workers: ws,
		Queues: map[string]int{webhookrelay.Queue: webhookrelay.QueueWorkers}, Lease: cfg.DeliveryLease,
		Log: log.With("component", "delivery"),
	})
	if err != nil {
		return nil, err
	}
	reg.MustRegister(q.Collector())
	for _, f := range followers {
		f.Attach(q)
		reg.MustRegister(f.Collectors()...)
	}
	return &deliveries{queue: q, calendar: cal, webhooks: hooks, waitlist: waitlist, followers: followers}, nil
}

// patientMessages builds the patient notifier from the settings, saying
// once which channels are on.
func patientMessages(cfg config.Config, st *store.Store, log *slog.Logger) (*notify.Notifier, httpapi.CalendarOptions, error) {
	nc := notify.Config{
		ClinicName: cfg.ClinicName, ClinicPhone: cfg.ClinicPhone, PublicBaseURL: cfg.PublicBaseURL,
		ReminderBefore: cfg.ReminderBefore, RetryBase: cfg.RetryBase, Log: log,
		AlertEmail: cfg.ClinicAlertEmail,
	}
	cal := httpapi.CalendarOptions{ClinicName: cfg.ClinicName, UIDDomain: notify.UIDDomain(cfg.PublicBaseURL), PublicBaseURL: cfg.PublicBaseURL}
	if cfg.SMTP != nil {
		m, err := notify.NewMailer(*cfg.SMTP, cfg.SMTPFrom)
		if err != nil {
			return nil, cal, fmt.Errorf("SMTP_FROM: %w", err)
		}
		nc.Email = m
		cal.Organizer = m.FromAddress()
		log.Info("patient email on", "smtp_host", cfg.SMTP.Host, "smtp_port", cfg.SMTP.Port, "security", string(cfg.SMTP.Security))
	} else {
		log.Info("patient email off: SMTP_URL is not set")
	}
	if cfg.Twilio != nil {
		nc.SMS = notify.NewSMSSender(*cfg.Twilio)
		log.Info("patient text messages on", "twilio_api", cfg.Twilio.APIURL)
	} else {
		log.Info("patient text messages off: TWILIO_ACCOUNT_SID is not set")
	}
	return notify.New(nc, st), cal, nil
}

// start starts this instance's delivery workers and the relays that write
// patient messages and webhooks from the live feed,
// and returns the function that stops them, letting attempts under way
// finish until its context ends.
func (d *deliveries) start(ctx context.Context) (func(context.Context), error) {
	if err := d.queue.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	relayCtx, stopRelays := context.WithCancel(context.WithoutCancel(ctx))
	var relays sync.WaitGroup
	for _, f := range d.followers {
		relays.Go(func() { f.Relay(relayCtx) })
	}
	return func(stopCtx context.Context) {
		stopRelays()
		relays.Wait()
		_ = d.queue.Stop(stopCtx)
	}, nil
}
