package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clinic/consult/internal/store"
)

// warnWithoutStaff logs how to create the first admin when the database has
// no staff account at all: without one nobody can log in, and a clinic's
// first start without -demo would otherwise look fine and be locked out.
func warnWithoutStaff(ctx context.Context, st *store.Store, log *slog.Logger) error {
	n, err := st.CountStaff(ctx)
	if err != nil {
		return fmt.Errorf("count staff: %w", err)
	}
	if n == 0 {
		log.Warn("no staff account exists, so nobody can log in: to create the first admin, " +
			"start the server once with BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD set " +
			"(README: First admin); or try the API on a demo clinic with -demo")
	}
	return nil
}

// serveMetrics serves /metrics alone on ln (METRICS_ADDR) until the
// returned function stops it.
func serveMetrics(ln net.Listener, registry *prometheus.Registry, log *slog.Logger) (stop func()) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}
}
