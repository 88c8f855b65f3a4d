package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/store"
)

// createAdminPasswordVar holds the password of "server create-admin": the
// environment, not the command line, which other users of the machine can
// read (ps, /proc).
const createAdminPasswordVar = "CREATE_ADMIN_PASSWORD"

// createAdmin adds an admin account: the first one on a new database, or
// another when nobody can log in as one any more. It refuses an email that
// already has an account.
func createAdmin(ctx context.Context, cfg config.Config, log *slog.Logger, email, password string) error {
	if password == "" {
		return fmt.Errorf("create-admin: set %s to the new admin's password (at least %d characters)", createAdminPasswordVar, auth.MinPasswordLength)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer st.Close()
	// The command issues no tokens; the service only needs a key to exist.
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("create-admin: %w", err)
	}
	svc, err := auth.NewService(st, auth.Options{JWTSecret: key, Log: log})
	if err != nil {
		return fmt.Errorf("create-admin: %w", err)
	}
	_, err = svc.CreateStaff(ctx, nil, auth.NewStaff{Email: email, Name: "Administrator", Role: string(auth.RoleAdmin), Password: password}, "")
	var ve *booking.ValidationError
	switch {
	case errors.Is(err, booking.ErrDuplicate):
		return errors.New("create-admin: an account with this email exists already")
	case errors.As(err, &ve):
		var msgs []string
		for _, f := range ve.Fields {
			name := f.Field
			if name == "password" {
				name = createAdminPasswordVar
			}
			msgs = append(msgs, name+" "+f.Message)
		}
		return fmt.Errorf("create-admin: %s", strings.Join(msgs, "; "))
	case err != nil:
		return fmt.Errorf("create-admin: %w", err)
	}
	log.Info("admin created")
	return nil
}

// warnWithoutStaff logs how to create the first admin when the database has
// no staff account at all: without one nobody can log in, and a clinic's
// first start without -demo would otherwise look fine and be locked out.
func warnWithoutStaff(ctx context.Context, st *store.Store, log *slog.Logger) error {
	n, err := st.CountStaff(ctx)
	if err != nil {
		return fmt.Errorf("count staff: %w", err)
	}
	if n == 0 {
		log.Warn("no staff account exists, so nobody can log in: to create the first admin, run " +
			"`server create-admin EMAIL` with the password in CREATE_ADMIN_PASSWORD, or start the server " +
			"once with BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD set (README: The first admin); " +
			"to try the API on a demo clinic instead, start it with -demo")
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
