package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clinic/consult/internal/limit"
)

// RateCounter is a limit.Counter held in the database, so that every server
// instance on it counts against the same limits. Each call is one statement
// (an upsert that starts a new window or adds a hit atomically under the
// row's lock), outside any transaction. Keys are stored hashed.
type RateCounter struct {
	s *Store

	mu        sync.Mutex
	lastSweep time.Time
}

var _ limit.Counter = (*RateCounter)(nil)

// RateCounter returns the database-backed counter of s.
func (s *Store) RateCounter() *RateCounter { return &RateCounter{s: s} }

// counterKey hashes a key: addresses and emails stay out of the table, and
// every key has the same short length.
func counterKey(k string) string {
	h := sha256.Sum256([]byte(k))
	return base64.RawURLEncoding.EncodeToString(h[:18])
}

// Hit implements limit.Counter.
func (c *RateCounter) Hit(ctx context.Context, now time.Time, rules []limit.Rule) ([]limit.Count, error) {
	c.sweep(ctx, now)
	nowMS := now.UnixMilli()
	var q strings.Builder
	q.WriteString("INSERT INTO rate_counters (counter_key, expires_at, hits) VALUES ")
	q.WriteString(joinedCopies("(?, ?, 1)", len(rules)))
	args := make([]any, 0, 2*len(rules)+2)
	index := make(map[string]int, len(rules))
	for i, r := range rules {
		k := counterKey(r.Key)
		index[k] = i
		args = append(args, k, now.Add(r.Window).UnixMilli())
	}
	// Every SET expression sees the row as it was: an ended window restarts
	// at one hit, a running one gains a hit.
	q.WriteString(` ON CONFLICT (counter_key) DO UPDATE SET
		hits = CASE WHEN rate_counters.expires_at <= ? THEN 1 ELSE rate_counters.hits + 1 END,
		expires_at = CASE WHEN rate_counters.expires_at <= ? THEN excluded.expires_at ELSE rate_counters.expires_at END
		RETURNING counter_key, hits, expires_at`)
	args = append(args, nowMS, nowMS)
	out := make([]limit.Count, len(rules))
	err := c.exec(ctx, func(ctx context.Context, db sqlRunner) error {
		rows, err := db.QueryContext(ctx, c.bind(q.String()), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var hits int
			var ends int64
			if err := rows.Scan(&k, &hits, &ends); err != nil {
				return err
			}
			if i, ok := index[k]; ok {
				out[i] = limit.Count{Hits: hits, Ends: time.UnixMilli(ends)}
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("count hits: %w", err)
	}
	return out, nil
}

// Undo implements limit.Counter.
func (c *RateCounter) Undo(ctx context.Context, now time.Time, keys []string) error {
	q := "UPDATE rate_counters SET hits = hits - 1 WHERE hits > 0 AND expires_at > ? AND counter_key IN (" + placeholders(len(keys)) + ")"
	args := append([]any{now.UnixMilli()}, hashed(keys)...)
	err := c.exec(ctx, func(ctx context.Context, db sqlRunner) error {
		_, err := db.ExecContext(ctx, c.bind(q), args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("undo hits: %w", err)
	}
	return nil
}

// Reset implements limit.Counter.
func (c *RateCounter) Reset(ctx context.Context, keys []string) error {
	q := "DELETE FROM rate_counters WHERE counter_key IN (" + placeholders(len(keys)) + ")"
	err := c.exec(ctx, func(ctx context.Context, db sqlRunner) error {
		_, err := db.ExecContext(ctx, c.bind(q), hashed(keys)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("reset hits: %w", err)
	}
	return nil
}

// sweep deletes windows that ended a while ago, at most once a minute per
// process, so an address scan cannot grow the table without bound. A failed
// sweep is retried a minute later; it does not fail the hit.
func (c *RateCounter) sweep(ctx context.Context, now time.Time) {
	c.mu.Lock()
	due := now.Sub(c.lastSweep) >= time.Minute
	if due {
		c.lastSweep = now
	}
	c.mu.Unlock()
	if !due {
		return
	}
	cutoff := now.Add(-time.Minute).UnixMilli()
	_ = c.exec(ctx, func(ctx context.Context, db sqlRunner) error {
		_, err := db.ExecContext(ctx, c.bind("DELETE FROM rate_counters WHERE expires_at < ?"), cutoff)
		return err
	})
}

type sqlRunner interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// exec runs fn on PostgreSQL's pool directly (one round trip, no
// transaction), and on SQLite through the single writer, so that a counter
// write queues with the others instead of meeting a locked file.
func (c *RateCounter) exec(ctx context.Context, fn func(context.Context, sqlRunner) error) error {
	if c.s.writer == nil {
		return fn(ctx, c.s.sqlDB)
	}
	return c.s.writer.run(ctx, func(tx *sql.Tx) error { return fn(context.WithoutCancel(ctx), tx) })
}

// bind turns ? placeholders into PostgreSQL's $n; SQLite takes ? as is.
func (c *RateCounter) bind(q string) string {
	if c.s.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// placeholders is n "?" separated by commas: an IN list's.
func placeholders(n int) string {
	return joinedCopies("?", n)
}

// joinedCopies is n copies of s separated by ", ": the placeholders of an
// IN list, or the rows of a multi-row INSERT's VALUES.
func joinedCopies(s string, n int) string {
	return strings.TrimSuffix(strings.Repeat(s+", ", n), ", ")
}

func hashed(keys []string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = counterKey(k)
	}
	return out
}
