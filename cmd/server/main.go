// Command server runs the clinic consultation booking API.
//
// It is configured through environment variables (see README.md) and with no
// configuration at all starts on an SQLite file under ./data. With -demo it
// seeds a demo clinic to try the API with curl.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // location time zones must resolve even on an image without zoneinfo

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/demo"
	"github.com/clinic/consult/internal/expiry"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until ctx is cancelled, then shuts down
// gracefully. It writes logs to stdout and returns start-up errors (bad
// configuration, unreachable database) to its caller.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	demoFlag := flags.Bool("demo", false, "seed a demo clinic (also DEMO=1)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	cfg.Demo = cfg.Demo || *demoFlag
	log := newLogger(cfg, stdout)

	if len(cfg.JWTSecret) == 0 {
		cfg.JWTSecret = make([]byte, 32)
		if _, err := rand.Read(cfg.JWTSecret); err != nil {
			return fmt.Errorf("make JWT secret: %w", err)
		}
		log.Warn("JWT_SECRET is not set: using a random key; staff tokens end with this process and other instances will not accept them")
	}

	st, err := store.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("database ready", "dialect", string(st.Dialect()))

	// Expires pending requests (PENDING_EXPIRY) and old Idempotency-Keys;
	// stopped, and waited for, before the store closes.
	stopExpiry := expiry.Start(ctx, st, expiry.Config{PendingExpiry: cfg.PendingExpiry, Interval: cfg.ExpiryInterval, Log: log})
	defer stopExpiry()

	authSvc, err := auth.NewService(st, auth.Options{
		JWTSecret: cfg.JWTSecret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		AccessTokenTTL: cfg.AccessTokenTTL, RefreshTokenTTL: cfg.RefreshTokenTTL,
		LoginRateLimit: cfg.LoginRateLimit, Log: log,
	})
	if err != nil {
		return err
	}
	if cfg.BootstrapAdminEmail != "" {
		created, err := authSvc.Bootstrap(ctx, cfg.BootstrapAdminEmail, cfg.BootstrapAdminPassword)
		if err != nil {
			return err
		}
		if created {
			log.Info("bootstrap admin created")
		}
	}

	if cfg.Demo {
		res, err := demo.Seed(ctx, st, authSvc, time.Now())
		if err != nil {
			return err
		}
		log.Info("demo clinic ready", "catalog_created", res.CatalogCreated, "slots_created", res.SlotsCreated, "bookings_created", res.Bookings)
		// The one place a password is printed: demo accounts, on purpose,
		// on plain lines outside the structured log.
		fmt.Fprintf(stdout, "demo login: %s %s\n", res.AdminEmail, res.AdminPassword)
		fmt.Fprintf(stdout, "demo reception login: %s %s\n", res.ReceptionEmail, res.ReceptionPassword)
	}

	handler, err := httpapi.NewServer(httpapi.Deps{
		Store: st, Auth: authSvc, Log: log, Registry: prometheus.NewRegistry(),
		Options: httpapi.Options{
			BodyLimit:          cfg.BodyLimit,
			CORSAllowedOrigins: cfg.CORSAllowedOrigins,
			Policy: booking.Policy{
				MinNotice: cfg.MinNotice, MaxAdvance: cfg.MaxAdvance, PatientChangeCutoff: cfg.PatientChangeCutoff,
				CheckinOpens: cfg.CheckinOpens,
			},
			PublicRateLimit: cfg.PublicRateLimit,
			TrustedProxies:  cfg.TrustedProxies,
		},
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
