package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// pageArgs is a message whose handler does what Mode says: "send", "fail"
// (for good) or "skip".
type pageArgs struct {
	MessageID string `json:"message_id"`
	Mode      string `json:"mode"`
}

func (pageArgs) Kind() string { return "page_message" }

// idleArgs is a message of a queue no instance works: it stays pending.
type idleArgs struct {
	MessageID string `json:"message_id"`
}

func (idleArgs) Kind() string { return "page_message_idle" }

func (idleArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: "nobody_works_this"} }

// TestListPagesEveryStatus: more messages than a page holds, in every
// status, page through with the cursor each returns, each message exactly
// once. River's own cursor could not be made from the page's last job (the
// admin list answered 500 once a status had more than a page).
func TestListPagesEveryStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		ws := delivery.NewWorkers(time.Hour, log, nil)
		delivery.Register(ws, func(_ context.Context, j delivery.Job[pageArgs]) error {
			switch j.Args.Mode {
			case "fail":
				return delivery.Permanent(errors.New("address refused"))
			case "skip":
				return delivery.Skipped("superseded by a newer message")
			}
			return nil
		}, nil)
		delivery.Register(ws, func(context.Context, delivery.Job[idleArgs]) error { return nil }, nil)
		q, err := delivery.New(delivery.Config{DB: s.QueueDB(), Postgres: s.Dialect() == store.Postgres, Workers: ws,
			PollInterval: 100 * time.Millisecond, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q.Stop(ctx)
		})

		const each, limit = 12, 5
		var msgs []delivery.Insert
		for i := range each {
			msgs = append(msgs,
				delivery.Insert{Args: pageArgs{MessageID: fmt.Sprint("sent-", i), Mode: "send"}},
				delivery.Insert{Args: pageArgs{MessageID: fmt.Sprint("failed-", i), Mode: "fail"}},
				delivery.Insert{Args: pageArgs{MessageID: fmt.Sprint("skipped-", i), Mode: "skip"}},
				delivery.Insert{Args: pageArgs{MessageID: fmt.Sprint("scheduled-", i)}, RunAt: time.Now().Add(time.Hour)},
				delivery.Insert{Args: idleArgs{MessageID: fmt.Sprint("pending-", i)}})
		}
		insert(t, s, q, true, msgs...)
		kinds := []string{"page_message", "page_message_idle"}

		page := func(st delivery.Status) (map[int64]int, []delivery.Message) {
			t.Helper()
			seen := map[int64]int{}
			var all []delivery.Message
			cursor := ""
			for range 10 {
				items, next, err := q.List(ctx, st, kinds, cursor, limit)
				if err != nil {
					t.Fatalf("%s after %q: %v", st, cursor, err)
				}
				if next != "" && len(items) != limit {
					t.Errorf("%s: a page of %d with a next cursor, want %d", st, len(items), limit)
				}
				for _, m := range items {
					seen[m.ID]++
					all = append(all, m)
				}
				if next == "" {
					return seen, all
				}
				cursor = next
			}
			t.Fatalf("%s: still a next cursor after 10 pages", st)
			return nil, nil
		}
		waitFor(t, "the sent, failed and skipped messages to end", func() bool {
			for _, st := range []delivery.Status{delivery.StatusSent, delivery.StatusFailed, delivery.StatusSkipped} {
				if seen, _ := page(st); len(seen) < each {
					return false
				}
			}
			return true
		})
		for _, st := range []delivery.Status{delivery.StatusScheduled, delivery.StatusPending, delivery.StatusSent, delivery.StatusFailed, delivery.StatusSkipped} {
			seen, all := page(st)
			if len(seen) != each || len(all) != each {
				t.Errorf("%s: got %d messages (%d distinct), want %d, each once", st, len(all), len(seen), each)
			}
			for i, m := range all {
				if m.Status != st {
					t.Errorf("%s: message %d listed as %s", st, m.ID, m.Status)
				}
				if i > 0 && m.ID >= all[i-1].ID {
					t.Errorf("%s: message %d after %d, want newest first", st, m.ID, all[i-1].ID)
				}
			}
			if st == delivery.StatusSkipped && len(all) > 0 {
				if got, want := all[0].LastError, "superseded by a newer message"; got != want {
					t.Errorf("skipped message's reason: got %q, want %q", got, want)
				}
			}
		}
		for _, bad := range []string{"nonsense", "m1.", "m1.-5", "m1.zzzzzzzzzzzzzzzzzzzz"} {
			if _, _, err := q.List(ctx, delivery.StatusSent, kinds, bad, limit); !errors.Is(err, delivery.ErrBadCursor) {
				t.Errorf("cursor %q: got %v, want ErrBadCursor", bad, err)
			}
		}

		// ListAbout: the messages about some values of an argument field,
		// in every status or one, paged the same way.
		about := []string{"sent-3", "failed-3", "skipped-3", "scheduled-3", "pending-3"}
		for _, tc := range []struct {
			status delivery.Status
			want   int
		}{{delivery.StatusAny, 5}, {delivery.StatusFailed, 1}, {delivery.StatusPending, 1}} {
			var got []delivery.Message
			cursor := ""
			for range 5 {
				items, next, err := q.ListAbout(ctx, tc.status, kinds, "message_id", about, cursor, 2)
				if err != nil {
					t.Fatalf("about, %q: %v", tc.status, err)
				}
				got = append(got, items...)
				if cursor = next; next == "" {
					break
				}
			}
			if len(got) != tc.want {
				t.Errorf("about, status %q: got %d messages, want %d", tc.status, len(got), tc.want)
			}
			for i, m := range got {
				if tc.status != delivery.StatusAny && m.Status != tc.status {
					t.Errorf("about, status %q: message %d is %s", tc.status, m.ID, m.Status)
				}
				if i > 0 && m.ID >= got[i-1].ID {
					t.Errorf("about, status %q: message %d after %d, want newest first", tc.status, m.ID, got[i-1].ID)
				}
			}
		}
		if items, next, err := q.ListAbout(ctx, delivery.StatusAny, kinds, "message_id", nil, "", 2); err != nil || len(items) != 0 || next != "" {
			t.Errorf("about no values: %v %q %v, want nothing", items, next, err)
		}
		if _, _, err := q.ListAbout(ctx, delivery.StatusAny, kinds, "message_id') OR (1=1", about, "", 2); err == nil {
			t.Error("about a field that is not a plain name: no error")
		}
	})
}
