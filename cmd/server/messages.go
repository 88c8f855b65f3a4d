package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/notify"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/webhook"
	"github.com/clinic/consult/internal/webhook/sender"
)

// messages is the delivery queue and the patient messages on it.
type messages struct {
	queue    *delivery.Queue
	calendar httpapi.CalendarOptions
	webhooks *sender.Sender
}

// setUpMessages builds the delivery queue with the patient message
// handlers, hooks the messages into every booking change and registers
// the metrics. The queue's workers start with start.
func setUpMessages(cfg config.Config, st *store.Store, log *slog.Logger, reg *prometheus.Registry) (*messages, error) {
	nc := notify.Config{
		ClinicName: cfg.ClinicName, PublicBaseURL: cfg.PublicBaseURL,
		ReminderBefore: cfg.ReminderBefore, RetryBase: cfg.RetryBase, Log: log,
	}
	cal := httpapi.CalendarOptions{ClinicName: cfg.ClinicName, UIDDomain: notify.UIDDomain(cfg.PublicBaseURL), PublicBaseURL: cfg.PublicBaseURL}
	if cfg.SMTP != nil {
		m, err := notify.NewMailer(*cfg.SMTP, cfg.SMTPFrom)
		if err != nil {
			return nil, fmt.Errorf("SMTP_FROM: %w", err)
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
	n := notify.New(nc, st)
	ws := delivery.NewWorkers(cfg.DeliveryGiveUp, log, n.Observe)
	n.Register(ws)
	// Webhooks ride on the same queue.
	if cfg.WebhookAllowPrivate {
		log.Warn("WEBHOOK_ALLOW_PRIVATE is on: webhooks may go to http URLs and private addresses; for local development and tests only")
	}
	hooks, err := sender.New(sender.Config{
		Store: st, Guard: webhook.Guard{AllowPrivate: cfg.WebhookAllowPrivate}, Render: httpapi.WebhookBody,
		GiveUp: cfg.DeliveryGiveUp, Log: log.With("component", "webhooks"), Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	hooks.Register(ws)
	q, err := delivery.New(delivery.Config{
		DB: st.QueueDB(), Postgres: st.Dialect() == store.Postgres, Workers: ws,
		Queues: map[string]int{sender.Queue: sender.QueueWorkers}, Lease: cfg.DeliveryLease,
		Log: log.With("component", "delivery"),
	})
	if err != nil {
		return nil, err
	}
	n.SetQueue(q)
	st.AddChangeHook(n.Hook)
	hooks.Attach(q)
	reg.MustRegister(q.Collector())
	reg.MustRegister(n.Collectors()...)
	return &messages{queue: q, calendar: cal, webhooks: hooks}, nil
}

// start starts this instance's delivery workers and returns the function
// that stops them, letting attempts under way finish until ctx ends.
func (m *messages) start(ctx context.Context) (func(context.Context), error) {
	if err := m.queue.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	return func(stopCtx context.Context) { _ = m.queue.Stop(stopCtx) }, nil
}
