package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinic/consult/internal/limit"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// Two instances on one database share one count: together they allow the
// limit, not twice it, even when every hit arrives at once.
func TestRateCounterSharedByInstances(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			instances := []*store.RateCounter{storetest.Open(t, url).RateCounter(), storetest.Open(t, url).RateCounter()}
			rule := limit.Rule{Key: "public:203.0.113.9", Max: 5, Window: time.Minute}
			now := time.Now()
			var passed atomic.Int32
			var wg sync.WaitGroup
			for i := range 30 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, _, err := limit.Take(context.Background(), instances[i%2], now, rule)
					if err != nil {
						t.Error(err)
					}
					if ok {
						passed.Add(1)
					}
				}()
			}
			wg.Wait()
			if got := passed.Load(); got != 5 {
				t.Errorf("allowed by two instances together: got %d, want 5", got)
			}
		})
	}
}

func TestRateCounterWindows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c := s.RateCounter()
		ctx := context.Background()
		t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		narrow := limit.Rule{Key: "narrow", Max: 2, Window: time.Minute}
		wide := limit.Rule{Key: "wide", Max: 10, Window: time.Hour}
		steps := []struct {
			at        time.Duration
			rules     []limit.Rule
			wantOK    bool
			wantRetry time.Duration
		}{
			{0, []limit.Rule{narrow, wide}, true, 0},
			{10 * time.Second, []limit.Rule{narrow, wide}, true, 0},
			{20 * time.Second, []limit.Rule{narrow, wide}, false, 40 * time.Second},
			{59 * time.Second, []limit.Rule{narrow, wide}, false, time.Second},
			{60 * time.Second, []limit.Rule{narrow, wide}, true, 0}, // the narrow window ended
		}
		for i, st := range steps {
			ok, retry, err := limit.Take(ctx, c, t0.Add(st.at), st.rules...)
			if err != nil {
				t.Fatal(err)
			}
			if ok != st.wantOK || retry != st.wantRetry {
				t.Errorf("step %d at %v: got %v retry %v, want %v retry %v", i, st.at, ok, retry, st.wantOK, st.wantRetry)
			}
		}
		// Refused takes counted nowhere: the wide key holds the three allowed.
		counts, err := c.Hit(ctx, t0.Add(61*time.Second), []limit.Rule{wide})
		if err != nil {
			t.Fatal(err)
		}
		if counts[0].Hits != 4 || !counts[0].Ends.Equal(t0.Add(time.Hour)) {
			t.Errorf("wide: got %d hits ending %v, want 4 ending %v", counts[0].Hits, counts[0].Ends, t0.Add(time.Hour))
		}
		if err := c.Reset(ctx, []string{"wide"}); err != nil {
			t.Fatal(err)
		}
		counts, err = c.Hit(ctx, t0.Add(62*time.Second), []limit.Rule{wide})
		if err != nil {
			t.Fatal(err)
		}
		if counts[0].Hits != 1 {
			t.Errorf("after reset: got %d hits, want 1", counts[0].Hits)
		}
	})
}

// BenchmarkRateLimitTake measures what the login throttle adds to a login
// (three keys) and the public limit to a public create (one key), on each
// counter, next to the in-memory counter and one bare database round trip
// measured in the same run.
func BenchmarkRateLimitTake(b *testing.B) {
	ctx := context.Background()
	login := func(i int) []limit.Rule {
		addr := "198.51.100." + string(rune('0'+i%10))
		return []limit.Rule{
			{Key: "login:pair:rita@clinic.example\x00" + addr, Max: 1 << 30, Window: time.Minute},
			{Key: "login:addr:" + addr, Max: 1 << 30, Window: time.Minute},
			{Key: "login:acct:rita@clinic.example", Max: 1 << 30, Window: time.Minute},
		}
	}
	run := func(b *testing.B, c limit.Counter, rules func(int) []limit.Rule) {
		i := 0
		for b.Loop() {
			if _, _, err := limit.Take(ctx, c, time.Now(), rules(i)...); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	public := func(i int) []limit.Rule {
		return []limit.Rule{{Key: "public:203.0.113." + string(rune('0'+i%10)), Max: 1 << 30, Window: time.Minute}}
	}
	b.Run("memory/login", func(b *testing.B) { run(b, limit.NewMemory(), login) })
	b.Run("memory/public", func(b *testing.B) { run(b, limit.NewMemory(), public) })
	for _, be := range storetest.Backends() {
		s := storetest.Open(b, be.URL(b))
		b.Run(be.Name+"/login", func(b *testing.B) { run(b, s.RateCounter(), login) })
		b.Run(be.Name+"/public", func(b *testing.B) { run(b, s.RateCounter(), public) })
		b.Run(be.Name+"/ping", func(b *testing.B) {
			for b.Loop() {
				if err := s.Ping(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
