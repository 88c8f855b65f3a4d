package store_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// TestFollowFeedPassesEachEventOnce: readers of one cursor, many at once
// while bookings keep committing, pass every event exactly once and in
// order; a reader that fails leaves the cursor where it was.
func TestFollowFeedPassesEachEventOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sl := catalogue(t, s)(1000, booking.SlotOpen)
		draft := webDraft(t, sl.ID, nil)
		book := func() error {
			_, err := s.CreateBooking(ctx, sl.ID, draft, nil)
			return err
		}
		// The cursor is made at the newest event: what came before is not
		// passed.
		if err := book(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FollowFeed(ctx, "test", 10, func(context.Context, *sql.Tx, []store.FeedEvent) error {
			t.Error("the first pass of a new cursor passed events made before it")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		at, newest, ok, err := s.FeedCursor(ctx, "test")
		if err != nil || !ok || at != newest {
			t.Fatalf("FeedCursor = %d, %d, %v, %v; want the newest event, true", at, newest, ok, err)
		}

		var mu sync.Mutex
		var seen []int64
		read := func(_ context.Context, _ *sql.Tx, events []store.FeedEvent) error {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range events {
				seen = append(seen, e.ID)
			}
			return nil
		}
		const bookings, readers = 40, 8
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range readers {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := s.FollowFeed(ctx, "test", 3, read); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		var booked sync.WaitGroup
		for range 4 {
			booked.Go(func() {
				for range bookings / 4 {
					if err := book(); err != nil {
						t.Error(err)
					}
				}
			})
		}
		booked.Wait()
		close(stop)
		wg.Wait()
		// What the readers had not got to yet.
		for {
			n, err := s.FollowFeed(ctx, "test", 3, read)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if got, want := len(seen), bookings; got != want {
			t.Fatalf("events passed: got %d, want %d", got, want)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] <= seen[i-1] {
				t.Fatalf("events passed out of order or twice: %v", seen)
			}
		}

		// A reader that fails passes nothing: the event comes again.
		if err := book(); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		if _, err := s.FollowFeed(ctx, "test", 10, func(context.Context, *sql.Tx, []store.FeedEvent) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("FollowFeed with a failing reader: got %v, want %v", err, boom)
		}
		n, err := s.FollowFeed(ctx, "test", 10, read)
		if err != nil || n != 1 {
			t.Fatalf("after a failure: got %d events, %v; want 1, nil", n, err)
		}
	})
}
