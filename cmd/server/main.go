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
	"strings"
	"sync/atomic"
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
	"github.com/clinic/consult/internal/limit"
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

// run is the server binary: with no command it serves the API until ctx is
// cancelled, then shuts down gracefully; "migrate" applies the migrations and
// exits; "backup FILE" copies a live SQLite database to FILE. It writes logs
// to stdout and returns start-up errors (bad configuration, unreachable
// database) to its caller. Every setting is checked before anything is
// created, migrated or listened on.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: server [-demo]          serve the API (configured by environment variables)")
		fmt.Fprintln(stderr, "       server migrate          apply the database migrations and exit")
		fmt.Fprintln(stderr, "       server backup FILE      copy the live SQLite database to FILE")
		fmt.Fprintln(stderr, "       server create-admin EMAIL  add an admin account; its password from CREATE_ADMIN_PASSWORD")
		flags.PrintDefaults()
	}
	demoFlag := flags.Bool("demo", false, "seed a demo clinic (also DEMO=1)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	cmd := flags.Args()
	switch {
	case len(cmd) == 0:
	case cmd[0] == "migrate" && len(cmd) == 1:
	case cmd[0] == "backup" && len(cmd) == 2 && cmd[1] != "":
	case cmd[0] == "backup":
		return errors.New("backup needs one argument, the file to write: server backup FILE")
	case cmd[0] == "create-admin" && len(cmd) == 2 && cmd[1] != "":
	case cmd[0] == "create-admin":
		return errors.New("create-admin needs one argument, the admin's email: server create-admin EMAIL")
	default:
		return fmt.Errorf("unknown command %q: use migrate, backup FILE, create-admin EMAIL, or no command to serve", strings.Join(cmd, " "))
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if *demoFlag {
		cfg.UseDemo()
	}
	log := newLogger(cfg, stdout)

	switch {
	case len(cmd) > 0 && cmd[0] == "migrate":
		st, err := store.Open(ctx, cfg.DatabaseURL, log)
		if err != nil {
			return err
		}
		log.Info("migrations applied", "dialect", string(st.Dialect()))
		return st.Close()
	case len(cmd) > 0 && cmd[0] == "backup":
		if err := store.Backup(ctx, cfg.DatabaseURL, cmd[1]); err != nil {
			return err
		}
		log.Info("backup written", "file", cmd[1])
		return nil
	case len(cmd) > 0 && cmd[0] == "create-admin":
		return createAdmin(ctx, cfg, log, cmd[1], getenv(createAdminPasswordVar))
	}
	return serve(ctx, cfg, log, stdout)
}

// serve runs the API until ctx is cancelled.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	if len(cfg.JWTSecret) == 0 {
		cfg.JWTSecret = make([]byte, 32)
		if _, err := rand.Read(cfg.JWTSecret); err != nil {
			return fmt.Errorf("make JWT secret: %w", err)
		}
		log.Warn("JWT_SECRET is not set: using a random key; staff tokens end with this process and other instances will not accept them")
	}
	if cfg.PrivacyPolicy == "" {
		log.Warn("PRIVACY_POLICY_URL is not set: the booking widget's consent box links to no privacy policy")
	}

	// Listening first reports a taken or unusable HTTP_ADDR before any
	// migration runs; connections wait in the backlog until Serve starts.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %s: cannot listen: %w", cfg.HTTPAddr, err)
	}
	defer ln.Close()
	publicLinks(&cfg, ln.Addr(), log)
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("METRICS_ADDR %s: cannot listen: %w", cfg.MetricsAddr, err)
		}
		defer metricsLn.Close()
	}

	st, err := store.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("database ready", "dialect", string(st.Dialect()))

	registry := prometheus.NewRegistry()
	metrics, err := httpapi.NewMetrics(registry, st.PoolCollectors())
	if err != nil {
		return err
	}
	// Messages (patient email and texts, webhooks): written in each booking
	// change's transaction, delivered by this instance's workers (and every
	// other instance's).
	msgs, err := setUpDeliveries(cfg, st, log, registry)
	if err != nil {
		return err
	}
	stopDelivery, err := msgs.start(ctx)
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		stopDelivery(stopCtx)
	}()

	// Expires pending requests (PENDING_EXPIRY) and old Idempotency-Keys;
	// stopped, and waited for, before the store closes.
	stopExpiry := expiry.Start(ctx, st, expiry.Config{
		PendingExpiry: cfg.PendingExpiry, Interval: cfg.ExpiryInterval, Log: log, OnExpired: metrics.Expired,
	})
	defer stopExpiry()

	// Rate limits and login throttles are counted where every instance sees
	// them: in the database on PostgreSQL (several instances), in memory on
	// SQLite (one process).
	var counter limit.Counter = limit.NewMemory()
	if st.Dialect() == store.Postgres {
		counter = st.RateCounter()
	}

	authSvc, err := auth.NewService(st, auth.Options{
		JWTSecret: cfg.JWTSecret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		AccessTokenTTL: cfg.AccessTokenTTL, RefreshTokenTTL: cfg.RefreshTokenTTL,
		LoginRateLimit: cfg.LoginRateLimit, LoginAddressRateLimit: cfg.LoginAddressRateLimit,
		LoginAccountRateLimit: cfg.LoginAccountRateLimit, Counter: counter, Log: log,
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
	if !cfg.Demo { // the demo makes its own admin below
		if err := warnWithoutStaff(ctx, st, log); err != nil {
			return err
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

	var draining atomic.Bool
	// Closed when shutdown starts: event streams end instead of holding it up.
	shuttingDown := make(chan struct{})
	handler, err := httpapi.NewServer(httpapi.Deps{
		Store: st, Auth: authSvc, Log: log, Registry: registry, Metrics: metrics, Done: shuttingDown,
		Queue: msgs.queue, Calendar: msgs.calendar, Webhooks: msgs.webhooks, WaitlistLinks: msgs.waitlist,
		Options: httpapi.Options{
			BodyLimit:          cfg.BodyLimit,
			CORSAllowedOrigins: cfg.CORSAllowedOrigins,
			Policy: booking.Policy{
				MinNotice: cfg.MinNotice, MaxAdvance: cfg.MaxAdvance, PatientChangeCutoff: cfg.PatientChangeCutoff,
				HoldTTL:      cfg.HoldTTL,
				CheckinOpens: cfg.CheckinOpens,
				// Issue 21: one person cannot empty the calendar.
				MaxLivePerPatient: cfg.MaxLivePerPatient,
				HoldMaxShare:      cfg.HoldMaxShare,
			},
			PublicRateLimit:         cfg.PublicRateLimit,
			PublicHoldLimit:         cfg.PublicHoldLimit,
			RateCounter:             counter,
			TrustedProxies:          cfg.TrustedProxies,
			Draining:                draining.Load,
			AvailabilityConcurrency: cfg.AvailabilityConcurrency,
			ClinicPhone:             cfg.ClinicPhone,
			FeedMaxStreamsPerStaff:  feedStreamCap(cfg.FeedMaxStreamsPerStaff),
			MetricsElsewhere:        metricsLn != nil,
			PrivacyPolicyURL:        cfg.PrivacyPolicy,
			WaitlistOfferTTL:        cfg.WaitlistOfferTTL,
		},
	})
	if err != nil {
		return err
	}

	srv := httpapi.NewHTTPServer(handler, slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	// Trusted proxies pool connections for all their clients: not capped.
	if err := httpapi.LimitIdleConns(srv, cfg.MaxIdleConnsPerClient, cfg.TrustedProxies); err != nil {
		return err
	}
	srv.RegisterOnShutdown(func() { close(shuttingDown) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if metricsLn != nil {
		stopMetrics := serveMetrics(metricsLn, registry, log)
		defer stopMetrics()
	}
	log.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if cfg.ShutdownDrain > 0 {
		// Readiness fails first, so a load balancer stops sending new
		// requests before the listener closes; requests still arriving
		// meanwhile are served.
		draining.Store(true)
		log.Info("draining", "drain", cfg.ShutdownDrain.String())
		select {
		case <-time.After(cfg.ShutdownDrain):
		case err := <-serveErr:
			return fmt.Errorf("serve: %w", err)
		}
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

// feedStreamCap turns FEED_MAX_STREAMS_PER_STAFF, where 0 is off, into
// the HTTP layer's option, where 0 is the default and off is negative.
func feedStreamCap(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
