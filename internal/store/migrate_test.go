package store_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// Several instances starting at once on one empty database all come up, on
// one schema: migrations run under a lock and each is applied once.
func TestConcurrentStartsMigrateOnce(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			const n = 4
			var wg sync.WaitGroup
			errs := make([]error, n)
			stores := make([]*store.Store, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stores[i], errs[i] = store.Open(context.Background(), url, slog.New(slog.DiscardHandler))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("instance %d: %v", i, err)
					continue
				}
				defer stores[i].Close()
			}
			n2, err := stores[0].CountStaff(context.Background())
			if err != nil || n2 != 0 {
				t.Errorf("schema usable: count %d, err %v", n2, err)
			}
		})
	}
}
