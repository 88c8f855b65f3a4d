package auth

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestThrottleLocksUntilWindowEnds(t *testing.T) {
	th := newThrottle(3, time.Minute)
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		failAt     []time.Duration
		checkAt    time.Duration
		wantLocked bool
	}{
		{"under the limit", []time.Duration{0, time.Second}, 2 * time.Second, false},
		{"at the limit", []time.Duration{0, time.Second, 2 * time.Second}, 3 * time.Second, true},
		{"window over", []time.Duration{0, time.Second, 2 * time.Second}, 61 * time.Second, false},
		{"new window starts fresh", []time.Duration{0, 61 * time.Second}, 62 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th.reset("k")
			for _, d := range tt.failAt {
				th.attempt("k", t0.Add(d))
			}
			_, got := th.attempt("k", t0.Add(tt.checkAt))
			if got != tt.wantLocked {
				t.Errorf("locked: got %v, want %v", got, tt.wantLocked)
			}
		})
	}
}

func TestThrottleCountsConcurrentAttempts(t *testing.T) {
	th := newThrottle(3, time.Minute)
	now := time.Now()
	var wg sync.WaitGroup
	var passed atomic.Int32
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, locked := th.attempt("k", now); !locked {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := passed.Load(); got != 3 {
		t.Errorf("attempts let through: got %d, want 3", got)
	}
	th.succeed("k")
	if _, locked := th.attempt("k", now); locked {
		t.Error("a successful attempt given back must free one place")
	}
}

func TestThrottleOffWhenLimitZero(t *testing.T) {
	th := newThrottle(0, time.Minute)
	now := time.Now()
	for range 100 {
		th.attempt("k", now)
	}
	if _, locked := th.attempt("k", now); locked {
		t.Error("a zero limit must never lock")
	}
}

// Production hashing uses bcrypt cost 12 at least.
func TestDefaultPasswordCost(t *testing.T) {
	s, err := NewService(nil, Options{JWTSecret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.hash("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	cost, err := bcrypt.Cost([]byte(h))
	if err != nil || cost < 12 {
		t.Errorf("bcrypt cost: got %d (%v), want >= 12", cost, err)
	}
}

func TestNewServiceRejectsShortSecret(t *testing.T) {
	if _, err := NewService(nil, Options{JWTSecret: []byte("short")}); err == nil {
		t.Error("got nil error for a 5-byte secret")
	}
}
