package httpapi

import (
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// However many origins a flood of requests makes up, a bounded number is
// remembered, and a new one is logged once the remembered ones are a
// minute old.
func TestRefusedOriginsStayBounded(t *testing.T) {
	clock := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	r := newRefusedOrigins(nil, "", slog.New(slog.DiscardHandler), func() time.Time { return clock })
	logged := 0
	for i := range 3 * refusedOriginsKept {
		if r.due(fmt.Sprintf("https://%d.example", i)) {
			logged++
		}
	}
	if logged != refusedOriginsKept || len(r.logged) != refusedOriginsKept {
		t.Errorf("flood: logged %d, remembered %d; want %d each", logged, len(r.logged), refusedOriginsKept)
	}
	if r.due("https://late.example") {
		t.Errorf("a new origin while all remembered ones are recent: logged, want not")
	}
	clock = clock.Add(refusedOriginEvery)
	if !r.due("https://late.example") {
		t.Errorf("a new origin a minute later: not logged, want logged")
	}
	if got := len(r.logged); got != 1 {
		t.Errorf("remembered after the minute: got %d, want 1", got)
	}
}
