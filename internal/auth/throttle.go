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

// attempt counts an attempt for key at now, before its outcome is known, so
// that concurrent attempts cannot all slip under the limit while each waits
// for its password check. It reports whether key was already locked, and
// for how long still; a locked attempt is not counted. A successful attempt
// is given back with succeed.
func (t *throttle) attempt(key string, now time.Time) (time.Duration, bool) {
	if t.limit <= 0 {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.keys[key]
	if !ok || !now.Before(a.start.Add(t.window)) {
		a = &attempts{start: now}
		t.keys[key] = a
		t.sweep(now)
	}
	if a.failures >= t.limit {
		return a.start.Add(t.window).Sub(now), true
	}
	a.failures++
	return 0, false
}

// succeed gives back an attempt of key that turned out well.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.keys[key]; ok && a.failures > 0 {
		a.failures--
	}
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
