package main

import (
	"log/slog"

	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/horizon"
	"github.com/clinic/consult/internal/store"
)

// registerScheduleHorizon puts the rolling slot generation on the job
// queue: at start and hourly, one instance extends every active schedule
// to MAX_ADVANCE ahead (package horizon).
func registerScheduleHorizon(ws *delivery.Workers, cfg config.Config, st *store.Store, log *slog.Logger) {
	horizon.New(st, horizon.Config{Ahead: cfg.MaxAdvance, Log: log.With("component", "schedules")}).Register(ws)
}
