// Package limit counts hits per key in fixed time windows, for rate limits
// and login throttles. A Counter is either in this process's memory (one
// server process) or in a store every instance shares (see package store),
// so that N instances together allow the configured limit, not N times it.
package limit

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Rule allows at most Max hits of Key in a window of Window, which starts
// at the key's first hit. A Max of 0 or less turns the rule off.
type Rule struct {
	Key    string
	Max    int
	Window time.Duration
}

// Count is a key's state after a hit: its hits in the current window (that
// hit included) and when the window ends.
type Count struct {
	Hits int
	Ends time.Time
}

// Counter counts hits per key. Implementations must count concurrent hits
// atomically: two hits on one key never see the same count.
type Counter interface {
	// Hit counts one hit on each rule's key at now, starting a new window
	// for keys whose window has ended, and returns their counts in the
	// order of rules.
	Hit(ctx context.Context, now time.Time, rules []Rule) ([]Count, error)
	// Undo takes one hit back from each key, within its current window and
	// never below zero.
	Undo(ctx context.Context, now time.Time, keys []string) error
	// Reset forgets the keys' hits.
	Reset(ctx context.Context, keys []string) error
}

// Take counts a hit against every active rule unless one of them is
// already at its Max: then nothing stays counted (a refused attempt does not
// extend or deepen a lock) and Take returns false with how long until the
// last blocking window ends. Concurrent callers cannot slip past a limit
// together: the hit is counted before its outcome is known.
func Take(ctx context.Context, c Counter, now time.Time, rules ...Rule) (bool, time.Duration, error) {
	active := make([]Rule, 0, len(rules))
	for _, r := range rules {
		if r.Max > 0 {
			active = append(active, r)
		}
	}
	if len(active) == 0 {
		return true, 0, nil
	}
	counts, err := c.Hit(ctx, now, active)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	var wait time.Duration
	blocked := false
	for i, r := range active {
		if counts[i].Hits > r.Max {
			blocked = true
			wait = max(wait, counts[i].Ends.Sub(now))
		}
	}
	if !blocked {
		return true, 0, nil
	}
	keys := make([]string, len(active))
	for i, r := range active {
		keys[i] = r.Key
	}
	if err := c.Undo(ctx, now, keys); err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	return false, max(wait, time.Second), nil
}

// Memory is a Counter in this process's memory, for a single server
// process. It is safe for concurrent use.
type Memory struct {
	mu        sync.Mutex
	keys      map[string]*window
	lastSweep time.Time
}

type window struct {
	ends time.Time
	hits int
}

// NewMemory returns an empty in-memory Counter.
func NewMemory() *Memory { return &Memory{keys: make(map[string]*window)} }

// Hit implements Counter.
func (m *Memory) Hit(_ context.Context, now time.Time, rules []Rule) ([]Count, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	out := make([]Count, len(rules))
	for i, r := range rules {
		w, ok := m.keys[r.Key]
		if !ok || !now.Before(w.ends) {
			w = &window{ends: now.Add(r.Window)}
			m.keys[r.Key] = w
		}
		w.hits++
		out[i] = Count{Hits: w.hits, Ends: w.ends}
	}
	return out, nil
}

// Undo implements Counter.
func (m *Memory) Undo(_ context.Context, now time.Time, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		if w, ok := m.keys[k]; ok && w.hits > 0 && now.Before(w.ends) {
			w.hits--
		}
	}
	return nil
}

// Reset implements Counter.
func (m *Memory) Reset(_ context.Context, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.keys, k)
	}
	return nil
}

// sweep drops ended windows once a minute, so a scan of many addresses
// cannot grow the map without bound. Callers hold m.mu.
func (m *Memory) sweep(now time.Time) {
	if now.Sub(m.lastSweep) < time.Minute {
		return
	}
	m.lastSweep = now
	for k, w := range m.keys {
		if !now.Before(w.ends) {
			delete(m.keys, k)
		}
	}
}
