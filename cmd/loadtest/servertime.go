package main

import (
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// serverTimer wraps the in-process servers (every instance, see wrap)
// and, while on, times every request from the start of the handler chain to the handler's return (the
// response written into net/http's buffer, flushed as the handler
// returns): the server's own latency, without the clients' share of a
// small machine, whose 16 goroutines and the floor's compete with the
// server for its cores. Samples are kept exact, not in buckets, and taken
// per measured window (see take), so the warm-ups are left out.
type serverTimer struct {
	on      atomic.Bool
	mu      sync.Mutex
	samples []serverSample
}

// serverSample is one timed request: when its handling began and how long
// it took.
type serverSample struct {
	start time.Time
	took  time.Duration
}

// wrap returns h timed by t.
func (t *serverTimer) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !t.on.Load() {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		h.ServeHTTP(w, r)
		took := time.Since(start)
		t.mu.Lock()
		t.samples = append(t.samples, serverSample{start, took})
		t.mu.Unlock()
	})
}

// start drops what was recorded and times the requests that follow.
func (t *serverTimer) start() {
	t.mu.Lock()
	t.samples = t.samples[:0]
	t.mu.Unlock()
	t.on.Store(true)
}

// stop ends the timing and returns, sorted, the durations of the requests
// whose handling began inside one of windows (a result's measured
// windows).
func (t *serverTimer) stop(windows []window) []time.Duration {
	t.on.Store(false)
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []time.Duration
	for _, s := range t.samples {
		for _, w := range windows {
			if !s.start.Before(w.from) && s.start.Before(w.to) {
				out = append(out, s.took)
				break
			}
		}
	}
	t.samples = nil
	slices.Sort(out)
	return out
}

// window is a measured time span of a scenario: requests that began in it
// count.
type window struct{ from, to time.Time }
