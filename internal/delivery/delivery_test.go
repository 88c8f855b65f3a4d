package delivery_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

type testArgs struct {
	MessageID string `json:"message_id"`
	Fail      bool   `json:"fail"`
}

func (testArgs) Kind() string { return "test_message" }

type recorder struct {
	mu       sync.Mutex
	got      map[string]int
	failing  bool
	outcomes map[delivery.Outcome]int
}

func (r *recorder) handle(_ context.Context, j delivery.Job[testArgs]) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j.Args.Fail && r.failing {
		return errors.New("receiver refused")
	}
	r.got[j.Args.MessageID]++
	return nil
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

func startQueue(t *testing.T, s *store.Store, r *recorder, giveUp time.Duration) *delivery.Queue {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ws := delivery.NewWorkers(giveUp, log, func(_ string, o delivery.Outcome) {
		r.mu.Lock()
		r.outcomes[o]++
		r.mu.Unlock()
	})
	delivery.Register(ws, r.handle, delivery.FixedSchedule(200*time.Millisecond))
	q, err := delivery.New(delivery.Config{DB: s.QueueDB(), Postgres: s.Dialect() == store.Postgres, Workers: ws,
		PollInterval: 100 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return q
}

func insert(t *testing.T, s *store.Store, q *delivery.Queue, commit bool, msgs ...delivery.Insert) {
	t.Helper()
	ctx := context.Background()
	tx, err := s.QueueDB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.InsertTx(ctx, tx, msgs...); err != nil {
		t.Fatal(err)
	}
	if commit {
		err = tx.Commit()
	} else {
		err = tx.Rollback()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestQueueDeliversCommittedOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		r := &recorder{got: map[string]int{}, outcomes: map[delivery.Outcome]int{}}
		q := startQueue(t, s, r, time.Hour)
		insert(t, s, q, false, delivery.Insert{Args: testArgs{MessageID: "rolled-back"}})
		insert(t, s, q, true, delivery.Insert{Args: testArgs{MessageID: "committed"}})
		insert(t, s, q, true, delivery.Insert{Args: testArgs{MessageID: "later"}, RunAt: time.Now().Add(time.Hour)})
		waitFor(t, "the committed message", func() bool { return r.count("committed") == 1 })
		time.Sleep(500 * time.Millisecond)
		if got := r.count("rolled-back"); got != 0 {
			t.Errorf("rolled back message delivered %d times, want 0", got)
		}
		if got := r.count("committed"); got != 1 {
			t.Errorf("committed message delivered %d times, want 1", got)
		}
		if got := r.count("later"); got != 0 {
			t.Errorf("message due in an hour delivered %d times, want 0", got)
		}
		kinds := []string{"test_message"}
		scheduled, _, err := q.List(context.Background(), delivery.StatusScheduled, kinds, "", 10)
		if err != nil || len(scheduled) != 1 {
			t.Fatalf("scheduled messages: got %d (%v), want 1", len(scheduled), err)
		}
	})
}

func TestQueueRetriesGivesUpAndAdminRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		r := &recorder{got: map[string]int{}, outcomes: map[delivery.Outcome]int{}, failing: true}
		q := startQueue(t, s, r, 700*time.Millisecond)
		insert(t, s, q, true, delivery.Insert{Args: testArgs{MessageID: "m1", Fail: true}})
		kinds := []string{"test_message"}
		var failed []delivery.Message
		waitFor(t, "the message to fail", func() bool {
			var err error
			failed, _, err = q.List(context.Background(), delivery.StatusFailed, kinds, "", 10)
			return err == nil && len(failed) == 1
		})
		m := failed[0]
		if m.Attempts < 2 {
			t.Errorf("attempts before giving up: got %d, want at least 2 (it retries)", m.Attempts)
		}
		if want := "gave up: receiver refused"; m.LastError != want {
			t.Errorf("last error: got %q, want %q", m.LastError, want)
		}
		r.mu.Lock()
		retries, fails := r.outcomes[delivery.Retry], r.outcomes[delivery.Failed]
		r.failing = false
		r.mu.Unlock()
		if retries < 1 || fails != 1 {
			t.Errorf("outcomes: got %d retries and %d failures, want at least 1 and exactly 1", retries, fails)
		}
		if _, err := q.Retry(context.Background(), m.ID, []string{"other_kind"}); !errors.Is(err, delivery.ErrNotFound) {
			t.Errorf("retry as another kind: got %v, want ErrNotFound", err)
		}
		if _, err := q.Retry(context.Background(), m.ID, kinds); err != nil {
			t.Fatalf("retry: %v", err)
		}
		waitFor(t, "the retried message", func() bool { return r.count("m1") == 1 })
		if _, err := q.Retry(context.Background(), m.ID, kinds); !errors.Is(err, delivery.ErrNotFailed) {
			t.Errorf("retry of a sent message: got %v, want ErrNotFailed", err)
		}
	})
}

type patientArgs struct {
	MessageID string `json:"message_id"`
}

func (patientArgs) Kind() string { return "patient_test_message" }

// TestKindGiveUp: a kind with a give-up period of its own keeps retrying
// after another kind's messages, failing as long, were given up.
func TestKindGiveUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		ws := delivery.NewWorkers(600*time.Millisecond, log, nil)
		refuse := func(context.Context, delivery.Job[testArgs]) error { return errors.New("down") }
		delivery.Register(ws, refuse, delivery.FixedSchedule(150*time.Millisecond))
		delivery.RegisterWith(ws, func(context.Context, delivery.Job[patientArgs]) error { return errors.New("down") },
			delivery.KindOptions{Schedule: delivery.FixedSchedule(150 * time.Millisecond), GiveUp: time.Hour})
		q, err := delivery.New(delivery.Config{DB: s.QueueDB(), Postgres: s.Dialect() == store.Postgres, Workers: ws,
			PollInterval: 100 * time.Millisecond, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q.Stop(ctx)
		})
		insert(t, s, q, true, delivery.Insert{Args: testArgs{MessageID: "general"}}, delivery.Insert{Args: patientArgs{MessageID: "own"}})
		ctx := context.Background()
		waitFor(t, "the general kind to give up", func() bool {
			failed, _, err := q.List(ctx, delivery.StatusFailed, []string{"test_message"}, "", 10)
			return err == nil && len(failed) == 1
		})
		time.Sleep(300 * time.Millisecond)
		failed, _, err := q.List(ctx, delivery.StatusFailed, []string{"patient_test_message"}, "", 10)
		if err != nil || len(failed) != 0 {
			t.Errorf("kind with its own give-up: got %d failed (%v), want 0", len(failed), err)
		}
		pending, _, err := q.List(ctx, delivery.StatusPending, []string{"patient_test_message"}, "", 10)
		if err != nil || len(pending) != 1 || pending[0].Attempts < 2 {
			t.Errorf("kind with its own give-up: got %+v (%v), want one pending message retried at least twice", pending, err)
		}
	})
}
