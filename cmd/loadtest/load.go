package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// result is what one timed scenario or baseline measured.
type result struct {
	name     string
	requests int
	elapsed  time.Duration
	lat      []time.Duration // sorted
	statuses map[int]int     // by HTTP status; 0 is a transport error
	note     string
	// windows are the measured spans (one a drive; merge adds them up).
	windows []window
	// server holds, sorted, the server-side durations of the requests
	// measured (see serverTimer), when the scenario was timed there too.
	server []time.Duration
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

func (r result) pct(p float64) time.Duration { return pct(r.lat, p) }

// serverPct is the p-quantile of the server-side durations.
func (r result) serverPct(p float64) time.Duration { return pct(r.server, p) }

// pct is the p-quantile of sorted durations, 0 for none.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p)]
}

// count5xx counts server errors and transport errors.
func (r result) count5xx() int {
	n := r.statuses[0]
	for st, c := range r.statuses {
		if st >= 500 {
			n += c
		}
	}
	return n
}

// merge adds up two measurements of one scenario.
func merge(a, b result) result {
	out := result{name: a.name, requests: a.requests + b.requests, elapsed: a.elapsed + b.elapsed, statuses: map[int]int{}}
	out.lat = append(append(make([]time.Duration, 0, len(a.lat)+len(b.lat)), a.lat...), b.lat...)
	slices.Sort(out.lat)
	out.windows = append(append([]window(nil), a.windows...), b.windows...)
	if len(a.server)+len(b.server) > 0 {
		out.server = append(append(make([]time.Duration, 0, len(a.server)+len(b.server)), a.server...), b.server...)
		slices.Sort(out.server)
	}
	for _, m := range []map[int]int{a.statuses, b.statuses} {
		for k, v := range m {
			out.statuses[k] += v
		}
	}
	return out
}

// worker is one client's state in a scenario.
type worker struct {
	id   int
	rng  *rand.Rand
	tags map[string]string // ETag seen per URL, for revalidation
}

// call is one request of a scenario: it returns the HTTP status (0 for a
// transport error, -1 when it made no request) and false when the scenario
// has nothing left to do.
type call func(ctx context.Context, w *worker) (status int, more bool)

// drive runs fn in clients goroutines: unmeasured for warmup, then measured
// for d. A request counts when it started inside the measured time.
func drive(ctx context.Context, name string, clients int, warmup, d time.Duration, seed uint64, fn call) result {
	type local struct {
		lat      []time.Duration
		statuses map[int]int
	}
	locals := make([]local, clients)
	begin := time.Now()
	measureFrom := begin.Add(warmup)
	deadline := measureFrom.Add(d)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{id: i, rng: rand.New(rand.NewPCG(seed, uint64(i))), tags: map[string]string{}}
			l := &locals[i]
			l.statuses = map[int]int{}
			l.lat = make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				status, more := fn(ctx, w)
				if status >= 0 && !t0.Before(measureFrom) {
					l.lat = append(l.lat, time.Since(t0))
					l.statuses[status]++
				}
				if !more {
					return
				}
			}
		}()
	}
	wg.Wait()
	end := time.Now()
	r := result{name: name, statuses: map[int]int{}, windows: []window{{measureFrom, deadline}}}
	if end.After(measureFrom) {
		r.elapsed = end.Sub(measureFrom)
	}
	for _, l := range locals {
		r.lat = append(r.lat, l.lat...)
		for k, v := range l.statuses {
			r.statuses[k] += v
		}
	}
	r.requests = len(r.lat)
	slices.Sort(r.lat)
	return r
}

// client is the HTTP client of every scenario and baseline: keep-alive
// connections, enough of them idle for every concurrent client.
func newClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		Timeout: 60 * time.Second,
	}
}

// send does one request and reads the whole answer. It returns the status
// (0 for a transport error), the response headers and, when keepBody, the
// body.
func send(ctx context.Context, c *http.Client, method, url string, body []byte, header http.Header, keepBody bool) (int, http.Header, []byte) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, nil
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer res.Body.Close()
	var out []byte
	if keepBody {
		out, err = io.ReadAll(res.Body)
	} else {
		_, err = io.Copy(io.Discard, res.Body)
	}
	if err != nil {
		return 0, nil, nil
	}
	return res.StatusCode, res.Header, out
}

// goMemory is the Go runtime's share of the process's memory: what it has
// obtained from the OS, and the live heap.
func goMemory() (sys, heap uint64) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Sys - m.HeapReleased, m.HeapAlloc
}

// peakRSS returns the process's peak resident memory (VmHWM) and its current
// one (VmRSS) in bytes, or zeros where /proc is missing.
func peakRSS() (peak, current int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for _, k := range []struct {
			prefix string
			dst    *int64
		}{{"VmHWM:", &peak}, {"VmRSS:", &current}} {
			if v, ok := strings.CutPrefix(line, k.prefix); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				*k.dst = kb << 10
			}
		}
	}
	return peak, current
}
