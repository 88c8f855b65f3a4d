package store_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// TestFeedIdsFollowCommitOrder: many writers on two instances of one
// database book at once while a reader on each follows the feed from an id
// (FeedEvents, as the SSE stream and the list do). Each reader sees every
// event exactly once, in increasing id order, with no id skipped: an id it
// stepped over would be one that a later commit filled in below where it
// had read to, which it would then never read. On PostgreSQL the feed is
// numbered after commit (see feed.go), so this is what proves it.
func TestFeedIdsFollowCommitOrder(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			one := storetest.Open(t, url)
			two := storetest.Open(t, url)
			sl := catalogue(t, one)(100000, booking.SlotOpen)
			start, err := one.LastFeedID(ctx)
			if err != nil {
				t.Fatal(err)
			}

			writers, each := 16, 12
			if b.Name == "sqlite" {
				writers, each = 4, 10 // one writer at a time: the order is trivially the commit order
			}
			stop := make(chan struct{})
			seen := make([][]int64, 2)
			var readers sync.WaitGroup
			for i, s := range []*store.Store{one, two} {
				readers.Go(func() {
					after := start
					for {
						events, err := s.FeedEvents(ctx, after, 7)
						if err != nil {
							t.Error(err)
							return
						}
						for _, e := range events {
							if e.ID != after+1 {
								t.Errorf("reader %d: after id %d came %d", i, after, e.ID)
								return
							}
							seen[i] = append(seen[i], e.ID)
							after = e.ID
						}
						if len(events) == 0 {
							select {
							case <-stop:
								return
							default:
							}
						}
					}
				})
			}
			var booked sync.WaitGroup
			for w := range writers {
				s := []*store.Store{one, two}[w%2]
				booked.Go(func() {
					for range each {
						if _, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), nil); err != nil {
							t.Error(err)
						}
					}
				})
			}
			booked.Wait()
			// Every booking has committed: a reader that reads to the end now
			// has them all (FeedEvents numbers what committed before it).
			close(stop)
			readers.Wait()
			want := int64(writers * each)
			for i, s := range []*store.Store{one, two} {
				after := start
				if n := len(seen[i]); n > 0 {
					after = seen[i][n-1]
				}
				for {
					events, err := s.FeedEvents(ctx, after, 100)
					if err != nil {
						t.Fatal(err)
					}
					if len(events) == 0 {
						break
					}
					for _, e := range events {
						if e.ID != after+1 {
							t.Fatalf("reader %d, at the end: after id %d came %d", i, after, e.ID)
						}
						seen[i] = append(seen[i], e.ID)
						after = e.ID
					}
				}
				if got := int64(len(seen[i])); got != want {
					t.Errorf("reader %d saw %d events, want %d", i, got, want)
				}
			}
			last, err := two.LastFeedID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := last - start; got != want {
				t.Errorf("ids given: got %d, want %d", got, want)
			}
		})
	}
}

// TestFeedNumberedAfterACrash: on PostgreSQL, feed events that committed
// and were not numbered (the process died between its commit and the
// numbering) are numbered when a store next opens the database, after the
// ids given before, and nothing is lost.
func TestFeedNumberedAfterACrash(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	s := storetest.Open(t, url)
	sl := catalogue(t, s)(10, booking.SlotOpen)
	b, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	last, err := s.LastFeedID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// What a writer's commit leaves when no numbering follows it.
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		if _, err := db.ExecContext(ctx, `INSERT INTO feed_pending (booking_id, type, occurred_at, booking)
			SELECT booking_id, type, occurred_at, booking FROM feed_events WHERE id = $1`, last); err != nil {
			t.Fatal(err)
		}
	}

	s = storetest.Open(t, url)
	var pending int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM feed_pending").Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("after opening: %d events still unnumbered, want 0", pending)
	}
	events, err := s.FeedEvents(ctx, last, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, e := range events {
		got = append(got, e.ID)
		if e.Booking.ID != b.Booking.ID {
			t.Errorf("event %d is of booking %s, want %s", e.ID, e.Booking.ID, b.Booking.ID)
		}
	}
	if want := []int64{last + 1, last + 2}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ids after the crash: got %v, want %v", got, want)
	}
}
