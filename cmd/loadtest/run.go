package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/store"
)

// execute is one whole run: database, seed, servers, scenarios, report.
func (c config) execute(ctx context.Context, stdout, stderr io.Writer) (err error) {
	began := time.Now()
	db, err := freshDatabase(ctx, c.dbURL)
	if err != nil {
		return err
	}
	defer db.cleanup()

	st, err := store.Open(ctx, db.url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	// The server logs as in production (one JSON line a request), into
	// nothing: the encoding is paid, the terminal is not.
	serverLog := slog.New(slog.NewJSONHandler(io.Discard, nil))
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	authSvc, err := auth.NewService(st, auth.Options{
		JWTSecret: secret, Issuer: "clinic-booking", Audience: "clinic-staff", Log: serverLog,
		PasswordCost: c.passwordCost,
	})
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "loadtest: %s\n", db.display)
	fmt.Fprintf(stdout, "machine: %d CPUs (%s), %s, GOMAXPROCS %d\n", runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOMAXPROCS(0))
	now := time.Now()
	rng := mrand.New(mrand.NewPCG(c.seed, 0x5eed))
	k, err := seedClinic(ctx, st, authSvc, c, now, rng)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(stdout, "seeded in %.1fs: %d providers, %d locations, %d consultation types, %d slots (%d places, %d days), %d bookings (%d occupying, %d cancelled/declined/expired)\n",
		time.Since(began).Seconds(), len(k.providers), len(k.locations), len(k.types), k.slots, k.places,
		c.pastDays+c.futureDays+1, k.occupying+k.released, k.occupying, k.released)

	fmt.Fprintf(stdout, "seeding: catalogue and slots %.1fs, listing the slots %.1fs, bookings %.1fs (%.0f a second); %d server instance(s)\n",
		k.timing.slots.Seconds(), k.timing.list.Seconds(), k.timing.bookings.Seconds(),
		float64(k.occupying+k.released)/max(k.timing.bookings.Seconds(), 1e-3), c.instances)
	if db.sqlite != "" {
		if fi, err := os.Stat(db.sqlite); err == nil {
			fmt.Fprintf(stdout, "database file: %.1f MB\n", float64(fi.Size())/(1<<20))
		}
	} else if size, err := db.schemaSize(ctx); err == nil {
		fmt.Fprintf(stdout, "database schema: %.1f MB (tables, indexes and TOAST)\n", float64(size)/(1<<20))
	}
	{
		peak, now := peakRSS()
		gosys, heap := goMemory()
		fmt.Fprintf(stderr, "  after seeding: RSS %.0f MB (peak %.0f MB; Go %.0f MB, heap %.0f MB)\n", float64(now)/(1<<20), float64(peak)/(1<<20),
			float64(gosys)/(1<<20), float64(heap)/(1<<20))
	}
	// Patient messages (the "messages" scenario) hook into the store before
	// it serves; they stay off until that scenario switches them on.
	var msgs *messaging
	msgsSkip := ""
	if c.runs("messages") {
		if msgs, msgsSkip, err = setUpMessaging(st); err != nil {
			return err
		}
		if msgs != nil {
			defer msgs.close()
		}
	}
	policy := booking.DefaultPolicy()
	var wl *waitlisting
	wlSkip := ""
	if c.runs("waitlist-offer") || c.runs("waitlist-flood") {
		if wl, wlSkip, err = setUpWaitlist(st, policy); err != nil {
			return err
		}
		if wl != nil {
			defer wl.close()
		}
	}
	handler, err := httpapi.NewServer(httpapi.Deps{
		Store: st, Auth: authSvc, Log: serverLog, Registry: prometheus.NewRegistry(),
		Options: httpapi.Options{BodyLimit: 64 << 10, Policy: policy, PublicRateLimit: 0},
	})
	if err != nil {
		return err
	}
	// Timed server-side for the search scenarios (see serverTimer), on
	// every instance.
	timer := &serverTimer{}
	apiURL, stopAPI, err := serve(timer.wrap(handler))
	if err != nil {
		return err
	}
	defer stopAPI()
	apis := []string{apiURL}
	// The other instances, as other processes on the same database would
	// be: each its own store (connection pool, availability cache, watch
	// of the others' commits) and its own auth service with the shared
	// JWT secret. The message and waitlist pipelines stay on the first,
	// a worker instance following the feed every instance writes.
	for range c.instances - 1 {
		other, err := store.Open(ctx, db.url, slog.New(slog.DiscardHandler))
		if err != nil {
			return fmt.Errorf("another instance: %w", err)
		}
		defer other.Close()
		otherAuth, err := auth.NewService(other, auth.Options{
			JWTSecret: secret, Issuer: "clinic-booking", Audience: "clinic-staff", Log: serverLog,
			PasswordCost: c.passwordCost,
		})
		if err != nil {
			return err
		}
		h, err := httpapi.NewServer(httpapi.Deps{
			Store: other, Auth: otherAuth, Log: serverLog, Registry: prometheus.NewRegistry(),
			Options: httpapi.Options{BodyLimit: 64 << 10, Policy: policy, PublicRateLimit: 0},
		})
		if err != nil {
			return err
		}
		u, stop, err := serve(timer.wrap(h))
		if err != nil {
			return err
		}
		defer stop()
		apis = append(apis, u)
	}
	// The same server with the availability cache off: what every request
	// cost before it, measured beside it.
	uncachedHandler, err := httpapi.NewServer(httpapi.Deps{
		Store: st, Auth: authSvc, Log: serverLog, Registry: prometheus.NewRegistry(),
		Options: httpapi.Options{BodyLimit: 64 << 10, Policy: policy, PublicRateLimit: 0, NoAvailabilityCache: true},
	})
	if err != nil {
		return err
	}
	uncachedURL, stopUncached, err := serve(uncachedHandler)
	if err != nil {
		return err
	}
	defer stopUncached()
	floorDB, err := openFloorDB(ctx, db)
	if err != nil {
		return err
	}
	defer dropScratch(floorDB)
	fl := &floor{bodies: map[string]fixedBody{}, db: floorDB}
	floorURL, stopFloor, err := serve(fl.handler())
	if err != nil {
		return err
	}
	defer stopFloor()
	fmt.Fprintf(stdout, "%d clients, %s measured (after %s warm-up) per run; server on %s, baselines on %s\n\n",
		c.clients, c.duration, c.warmup, strings.Join(apis, " and "), floorURL)

	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	r := &runner{cfg: c, st: st, k: k, policy: policy, client: newClient(), api: apiURL, apis: apis, uncached: uncachedURL,
		floorURL: floorURL, floor: fl, stderr: stderr, timer: timer, msgs: msgs, msgsSkip: msgsSkip,
		wl: wl, wlSkip: wlSkip}
	// The flood's servers are made for it and stopped after it, so that
	// one run's cache does not weigh on the next's memory.
	r.floodServer = func(bound, cacheBytes int) (string, func(), error) {
		h, err := httpapi.NewServer(httpapi.Deps{
			Store: st, Auth: authSvc, Log: serverLog, Registry: prometheus.NewRegistry(),
			Options: httpapi.Options{BodyLimit: 64 << 10, Policy: policy, AvailabilityConcurrency: bound, AvailabilityCacheBytes: cacheBytes},
		})
		if err != nil {
			return "", nil, err
		}
		return serve(h)
	}
	rep := r.scenarios(ctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if c.memProfile != "" {
		runtime.GC()
		f, err := os.Create(c.memProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	rep.print(stdout)
	fmt.Fprintf(stdout, "\ntotal %.1fs\n", time.Since(began).Seconds())
	if rep.failed() {
		return errGoalsMissed
	}
	return nil
}

// serve runs h on a new loopback port in the server binary's own
// http.Server (httpapi.NewHTTPServer) and returns its base URL and a stop
// function.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := httpapi.NewHTTPServer(h, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "loadtest: serve:", err)
		}
	}()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
