package auth

import (
	"sync"
	"time"
)

// throttle counts failed attempts per key (an account or a client address)
// in fixed windows. Once a key reaches the limit it stays locked until its
// window ends, whatever is tried meanwhile, the right password included.
// It lives in memory: each instance throttles on its own.
type throttle struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	keys   map[string]*attempts
}

type attempts struct {
	start    time.Time
	failures int
}

// newThrottle returns a throttle allowing limit failures a window; a limit of
// 0 turns it off (every method is then a no-op).
func newThrottle(limit int, window time.Duration) *throttle {
	return &throttle{limit: limit, window: window, keys: make(map[string]*attempts)}
}

// locked reports whether key is locked at now and for how long still.
func (t *throttle) locked(key string, now time.Time) (time.Duration, bool) {
	if t.limit <= 0 {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.keys[key]
	if !ok {
		return 0, false
	}
	end := a.start.Add(t.window)
	if !now.Before(end) {
		delete(t.keys, key)
		return 0, false
	}
	if a.failures >= t.limit {
		return end.Sub(now), true
	}
	return 0, false
}

// fail records a failed attempt for key.
func (t *throttle) fail(key string, now time.Time) {
	if t.limit <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.keys[key]
	if !ok || !now.Before(a.start.Add(t.window)) {
		a = &attempts{start: now}
		t.keys[key] = a
		t.sweep(now)
	}
	a.failures++
}

// reset forgets key's failures, after a successful login.
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// sweep drops expired windows so an address scan cannot grow the map without
// bound. Callers hold t.mu.
func (t *throttle) sweep(now time.Time) {
	if len(t.keys) < 10000 {
		return
	}
	for k, a := range t.keys {
		if !now.Before(a.start.Add(t.window)) {
			delete(t.keys, k)
		}
	}
}
