package httpapi

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestHeavySlotsBoundComputations(t *testing.T) {
	h := heavySlots{ch: make(chan struct{}, 2), wait: 50 * time.Millisecond}
	ctx := context.Background()
	r1, err := h.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := h.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.acquire(ctx); !errors.Is(err, errAvailabilityBusy) {
		t.Errorf("third at once: got %v, want errAvailabilityBusy after the wait", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.acquire(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("client gone while queued: got %v, want context.Canceled", err)
	}
	// A computation that ends lets a queued one through.
	go func() { time.Sleep(10 * time.Millisecond); r1() }()
	r3, err := h.acquire(ctx)
	if err != nil {
		t.Errorf("queued while one ended: got %v, want a slot", err)
	} else {
		r3()
	}
	r2()
	unbounded := newHeavySlots(-1)
	for range 100 {
		if _, err := unbounded.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := cap(newHeavySlots(0).ch); got < 1 {
		t.Errorf("default bound: got %d, want one a CPU", got)
	}
}
