package httpapi

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter allows each key (a client address) perMinute requests a
// minute, in a token bucket that refills smoothly with a burst of the whole
// minute's allowance. Buckets idle for a while are dropped so the map stays
// small under a scan of many addresses. A nil *rateLimiter allows everything.
type rateLimiter struct {
	mu        sync.Mutex
	limit     rate.Limit
	burst     int
	now       func() time.Time
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim      *rate.Limiter
	lastSeen time.Time
}

func newRateLimiter(perMinute int, per time.Duration, now func() time.Time) *rateLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &rateLimiter{
		limit:   rate.Limit(float64(perMinute) / per.Seconds()),
		burst:   perMinute,
		now:     now,
		buckets: make(map[string]*bucket),
	}
}

// allow reports whether key may make a request now, and if not, how long it
// should wait before the next one can pass.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.lastSeen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.lastSeen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
