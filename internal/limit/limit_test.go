package limit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTakeLocksUntilWindowEnds(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	rule := Rule{Key: "k", Max: 3, Window: time.Minute}
	tests := []struct {
		name      string
		hitsAt    []time.Duration
		checkAt   time.Duration
		wantAllow bool
	}{
		{"under the limit", []time.Duration{0, time.Second}, 2 * time.Second, true},
		{"at the limit", []time.Duration{0, time.Second, 2 * time.Second}, 3 * time.Second, false},
		{"window over", []time.Duration{0, time.Second, 2 * time.Second}, 61 * time.Second, true},
		{"new window starts fresh", []time.Duration{0, 61 * time.Second}, 62 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewMemory()
			ctx := context.Background()
			for _, d := range tt.hitsAt {
				if _, _, err := Take(ctx, c, t0.Add(d), rule); err != nil {
					t.Fatal(err)
				}
			}
			got, wait, err := Take(ctx, c, t0.Add(tt.checkAt), rule)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.wantAllow {
				t.Errorf("allowed: got %v, want %v", got, tt.wantAllow)
			}
			if !got && (wait <= 0 || wait > time.Minute) {
				t.Errorf("retry after: got %v, want within the window", wait)
			}
		})
	}
}

func TestTakeCountsConcurrentHits(t *testing.T) {
	c := NewMemory()
	now := time.Now()
	rule := Rule{Key: "k", Max: 3, Window: time.Minute}
	var wg sync.WaitGroup
	var passed atomic.Int32
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _, _ := Take(context.Background(), c, now, rule); ok {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := passed.Load(); got != 3 {
		t.Errorf("hits let through: got %d, want 3", got)
	}
	if err := c.Undo(context.Background(), now, []string{"k"}); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := Take(context.Background(), c, now, rule); !ok {
		t.Error("a hit taken back must free one place")
	}
}

func TestTakeRefusedHitCountsNowhere(t *testing.T) {
	c := NewMemory()
	ctx := context.Background()
	now := time.Now()
	narrow := Rule{Key: "narrow", Max: 1, Window: time.Minute}
	wide := Rule{Key: "wide", Max: 3, Window: time.Minute}
	for i, want := range []bool{true, false, false, false} {
		if ok, _, _ := Take(ctx, c, now, narrow, wide); ok != want {
			t.Fatalf("take %d: got %v, want %v", i, ok, want)
		}
	}
	// Only the first hit counted on the wide rule: two more fit.
	for i := range 2 {
		if ok, _, _ := Take(ctx, c, now, wide); !ok {
			t.Errorf("wide take %d: refused, want allowed (refused hits must not count)", i)
		}
	}
}

func TestTakeOffWhenMaxZero(t *testing.T) {
	c := NewMemory()
	now := time.Now()
	for range 100 {
		if ok, _, _ := Take(context.Background(), c, now, Rule{Key: "k", Max: 0, Window: time.Minute}); !ok {
			t.Fatal("a zero limit must never refuse")
		}
	}
}
