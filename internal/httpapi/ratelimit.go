package httpapi

import (
	"context"
	"time"

	"github.com/clinic/consult/internal/limit"
)

// publicLimiter allows each client perMinute public writes a minute, in
// fixed windows counted by a limit.Counter (shared by every instance on
// PostgreSQL). A client is its address, or its /64 for IPv6
// (limit.ClientKey). A perMinute of 0 allows everything.
type publicLimiter struct {
	counter   limit.Counter
	perMinute int
}

// allow reports whether the client at addr may make a public write at now,
// and if not, how long until it may.
func (l publicLimiter) allow(ctx context.Context, addr string, now time.Time) (bool, time.Duration, error) {
	return limit.Take(ctx, l.counter, now, limit.Rule{Key: "public:" + limit.ClientKey(addr), Max: l.perMinute, Window: time.Minute})
}
