package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/notify"
	"github.com/clinic/consult/internal/store"
)

// messaging is the patient message pipeline of the "messages" scenario:
// the relay writes email and SMS jobs from the live feed while on is set; the
// queue's workers send the email to a real SMTP server (Mailpit, started
// here) and the texts to a local server answering as Twilio does.
type messaging struct {
	on    atomic.Bool
	st    *store.Store
	n     *notify.Notifier
	queue *delivery.Queue
	*outbound

	mu   sync.Mutex
	lags map[string][]time.Duration // by channel: job written -> accepted
	from time.Time                  // only messages written after it count
}

// setUpMessaging builds the pipeline and hooks it into st, switched off. It
// returns nil and a reason when Mailpit is not installed.
func setUpMessaging(st *store.Store) (*messaging, string, error) {
	out, reason, err := startOutbound("loadtest-mailpit-")
	if out == nil {
		return nil, reason, err
	}
	m := &messaging{outbound: out, lags: map[string][]time.Duration{}}
	log := slog.New(slog.DiscardHandler)
	n := notify.New(notify.Config{
		ClinicName: "Load Clinic", PublicBaseURL: "http://loadtest.example", ReminderBefore: 24 * time.Hour,
		Email: m.email, SMS: m.sms,
		Log: log, OnSent: m.sent,
	}, st)
	ws := delivery.NewWorkers(time.Hour, log, nil)
	n.Register(ws)
	if m.queue, err = delivery.New(delivery.Config{DB: st.QueueDB(), Postgres: st.Dialect() == store.Postgres, Workers: ws, Log: log}); err != nil {
		m.close()
		return nil, "", err
	}
	n.Attach(m.queue)
	m.st, m.n = st, n
	return m, "", nil
}

// write is the relay's reader: the notifier's while on is set; otherwise
// it writes nothing, as the relay of a server with email and SMS off.
func (m *messaging) write(ctx context.Context, tx *sql.Tx, events []store.FeedEvent) error {
	if !m.on.Load() {
		return nil
	}
	return m.n.WriteMessages(ctx, tx, events)
}

// passWhileOff passes the relay every change made so far with messages
// off: they write nothing.
func (m *messaging) passWhileOff(ctx context.Context) error {
	m.on.Store(false)
	return m.st.CatchUpFeed(ctx, notify.RelayCursor, m.write)
}

// startRelay passes the relay the changes made so far (the seed's), with
// messages off, then runs it until the returned function is called.
func (m *messaging) startRelay(ctx context.Context) (func(), error) {
	if err := m.passWhileOff(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.st.ReadFeed(ctx, notify.RelayCursor, m.write, slog.New(slog.DiscardHandler))
	}()
	return func() { cancel(); <-done }, nil
}

func (m *messaging) sent(channel string, written time.Time) {
	lag := time.Since(written)
	m.mu.Lock()
	if !written.Before(m.from) {
		m.lags[channel] = append(m.lags[channel], lag)
	}
	m.mu.Unlock()
}

func (m *messaging) close() { m.outbound.close() }

// messagesScenario measures patient messages in three parts:
//
//  1. the write path: booking requests with email and SMS on (their jobs
//     written by the relay as the bookings commit, taking turns with them
//     on the database) against the same requests with them off (the relay
//     running, writing nothing), in turns on one server, with the workers
//     that send stopped so that the comparison is of writing alone;
//  2. the backlog that left, delivered as fast as the workers go (the
//     delivery throughput, for information);
//  3. the delivery lag, from the booking's commit to the SMTP server's (or
//     Twilio's) acceptance, at a steady booking rate the workers can follow.
func (r *runner) messagesScenario(ctx context.Context, rep *report, progress func(result)) {
	m := r.msgs
	if m == nil {
		rep.add(row{res: result{name: "booking with email + SMS on", note: "skipped: " + r.msgsSkip}, goalText: "(skipped)"})
		return
	}
	c := r.cfg
	// Keep places for the paced part: the first runs could take them all.
	rate := max(1, c.messageRate)
	all := r.places
	defer func() { r.places = all; r.nextPlace.Store(0) }() // the next scenario books from every place again (after recyclePlaces)
	keep := min(len(r.places)/4, rate*int(c.duration/time.Second+1)+rate)
	kept := slices.Clone(r.places[len(r.places)-keep:])
	r.places = r.places[:len(r.places)-keep]
	stopRelay, err := m.startRelay(ctx)
	if err != nil {
		rep.fatal = err
		return
	}
	defer stopRelay()
	off := func(ctx context.Context, w *worker) (int, bool) { m.on.Store(false); return r.bookingCall()(ctx, w) }
	on := func(ctx context.Context, w *worker) (int, bool) { m.on.Store(true); return r.bookingCall()(ctx, w) }
	// Off, on, on, off, twice: on a shared machine the neighbours' load
	// drifts, and turns in this order give both sides the same share of
	// each drift.
	// A first run, not counted, takes what the first turn after seeding
	// would pay alone (a checkpoint of the seed's log, cold caches).
	half := c.duration / 2
	// Each run starts with the places the last one took given back (their
	// cancellations passed by the relay with messages off, before the run).
	run := func(name string, seed uint64, fn call) result {
		m.on.Store(false)
		if err := r.recyclePlaces(ctx); err != nil {
			rep.fatal = err
			return result{name: name}
		}
		if err := m.passWhileOff(ctx); err != nil {
			rep.fatal = err
			return result{name: name}
		}
		return drive(ctx, name, c.clients, c.warmup, half, seed, fn)
	}
	run("booking, warm-up", c.seed+100, off)
	var base, scen result
	for round := range uint64(2) {
		seed := c.seed + 2*round
		b1 := run("booking, messages off", seed, off)
		s1 := run("booking, email + SMS on (jobs written)", seed, on)
		s2 := run("booking, email + SMS on (jobs written)", seed+1, on)
		b2 := run("booking, messages off", seed+1, off)
		if round == 0 {
			base, scen = merge(b1, b2), merge(s1, s2)
		} else {
			base, scen = merge(base, merge(b1, b2)), merge(scen, merge(s1, s2))
		}
	}
	m.on.Store(false)
	if rep.fatal != nil {
		return
	}
	progress(base)
	progress(scen)
	rep.add(row{res: base, baseline: true})
	rep.add(row{res: scen, base: &base, goal: 0.9, goalText: ">= 90% of messages off, no 5xx", no5xx: true})

	// 2. Deliver the backlog.
	backlog, _, _ := m.queue.Backlog(ctx)
	began := time.Now()
	if err := m.queue.Start(ctx); err != nil {
		rep.fatal = err
		return
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = m.queue.Stop(stopCtx)
	}()
	drain := func(limit time.Duration) bool {
		deadline := time.Now().Add(limit)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if pending, _, err := m.queue.Backlog(ctx); err == nil && pending == 0 {
				return true
			}
			time.Sleep(100 * time.Millisecond)
		}
		return false
	}
	drained := drain(5 * time.Minute)
	took := time.Since(began)
	fmt.Fprintf(r.stderr, "  %-40s %8d messages in %.1fs (%.0f/s), drained: %v\n", "delivery of the backlog", backlog, took.Seconds(),
		float64(backlog)/took.Seconds(), drained)
	rep.add(row{res: result{name: "delivery of that backlog (messages)", requests: backlog, elapsed: took, statuses: map[int]int{}},
		goalText: "(no goal: workers' throughput)"})

	// 3. Steady bookings, messages on, workers running.
	r.places = kept
	r.nextPlace.Store(0)
	m.mu.Lock()
	m.from = time.Now()
	m.lags = map[string][]time.Duration{}
	m.mu.Unlock()
	m.on.Store(true)
	paced := r.paced(ctx, fmt.Sprintf("booking at %d/s, messages delivered meanwhile", rate), rate, c.duration)
	m.on.Store(false)
	progress(paced)
	rep.add(row{res: paced, goalText: "(no goal: paced)", no5xx: true})
	drain(time.Minute)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ch := range []string{"email", "sms"} {
		lags := slices.Clone(m.lags[ch])
		slices.Sort(lags)
		res := result{name: "delivery lag, " + ch + " (commit -> accepted)", requests: len(lags), lat: lags,
			statuses: map[int]int{}, elapsed: c.duration}
		if ch == "email" {
			res.name = "delivery lag, email (commit -> SMTP accept)"
		}
		fmt.Fprintf(r.stderr, "  %-40s %8d messages, p99 %s\n", res.name, len(lags), ms(res.pct(0.99)))
		rep.add(row{res: res, maxP99: 2 * time.Second, goalText: "p99 < 2s"})
	}
}

// paced sends booking requests at rate a second for d, each on its own
// goroutine, and measures them.
func (r *runner) paced(ctx context.Context, name string, rate int, d time.Duration) result {
	res := result{name: name, statuses: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	began := time.Now()
	for i := 0; time.Since(began) < d && ctx.Err() == nil; i++ {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{id: i, rng: mrand.New(mrand.NewPCG(r.cfg.seed, uint64(i))), tags: map[string]string{}}
			t0 := time.Now()
			status, _ := r.bookingCall()(ctx, w)
			if status < 0 {
				return
			}
			mu.Lock()
			res.lat = append(res.lat, time.Since(t0))
			res.statuses[status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(began)
	res.requests = len(res.lat)
	slices.Sort(res.lat)
	return res
}
