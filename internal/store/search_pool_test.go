package store_test

import (
	"context"
	"testing"

	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// The staff searches' pool plans its statements generically; the main
// pool, which runs booking and availability, keeps the server's setting.
func TestSearchPoolPlansGenerically(t *testing.T) {
	s := storetest.Open(t, storetest.PostgresURL(t))
	main, search, same, err := store.PlanCacheModes(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if same {
		t.Fatal("the search pool is the main pool")
	}
	if search != "force_generic_plan" {
		t.Errorf("search pool's plan_cache_mode: got %q, want force_generic_plan", search)
	}
	// The server's own default (auto unless its configuration says
	// otherwise), not the search pool's.
	if main == "force_generic_plan" {
		t.Errorf("main pool's plan_cache_mode: got %q, want the server's default", main)
	}
}
