package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

func noteMessages(t *testing.T, s *store.Store, notes ...store.MessageNote) {
	t.Helper()
	ctx := context.Background()
	tx, err := s.QueueDB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := s.NoteMessagesTx(ctx, tx, notes); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestMessageSendTurns: which message of a booking may go out on a channel,
// step by step: superseded ones never, one at a time, a turn whose holder
// died lapses, and a late holder cannot end another's turn.
func TestMessageSendTurns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := uuid.New()
		now := time.Now()
		noteMessages(t, s, store.MessageNote{BookingID: b, Channel: "email", Version: 1},
			store.MessageNote{BookingID: b, Channel: "email", Version: 2}, store.MessageNote{BookingID: b, Channel: "sms", Version: 1})
		claim := func(id string, version int, at time.Time) store.SendClaim {
			return store.SendClaim{BookingID: b, Channel: "email", MessageID: id, Version: version, Now: at, Until: at.Add(time.Second)}
		}
		finish := func(c store.SendClaim, sent bool) {
			t.Helper()
			if err := s.FinishMessageSend(ctx, c, sent); err != nil {
				t.Fatal(err)
			}
		}
		steps := []struct {
			name  string
			claim store.SendClaim
			want  store.ClaimResult
			after func(store.SendClaim)
		}{
			{"an older state message than the newest written", claim("received", 1, now), store.ClaimSuperseded, nil},
			{"the newest", claim("confirmed", 2, now), store.ClaimGranted, nil},
			{"a reminder while the newest is being sent", claim("reminder-1", 0, now), store.ClaimBusy, nil},
			{"the holder again (its retry)", claim("confirmed", 2, now), store.ClaimGranted, func(c store.SendClaim) { finish(c, true) }},
			{"the message sent, tried again (its sender died before the queue knew)", claim("confirmed", 2, now), store.ClaimSentAlready, nil},
			{"an older one than the one sent", claim("received", 1, now), store.ClaimSuperseded, nil},
			{"the other channel is its own", store.SendClaim{BookingID: b, Channel: "sms", MessageID: "sms-1", Version: 1, Now: now, Until: now.Add(time.Second)}, store.ClaimGranted, nil},
			{"a reminder once the turn is free", claim("reminder-1", 0, now), store.ClaimGranted, nil},
			{"another while its holder may be alive", claim("reminder-2", 0, now.Add(900*time.Millisecond)), store.ClaimBusy, nil},
			{"another once the holder's turn lapsed", claim("reminder-2", 0, now.Add(2*time.Second)), store.ClaimGranted, func(store.SendClaim) {
				finish(claim("reminder-1", 0, now), true) // the dead holder's late end
			}},
			{"the late end did not end the new holder's turn", claim("reminder-3", 0, now.Add(2*time.Second)), store.ClaimBusy, nil},
		}
		for _, st := range steps {
			got, err := s.ClaimMessageSend(ctx, st.claim)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if got != st.want {
				t.Errorf("%s: got %v, want %v", st.name, got, st.want)
			}
			if st.after != nil {
				st.after(st.claim)
			}
		}
	})
}

// TestMessageSendTurnsAreExclusive: many senders on two instances ask for
// one booking's turn at once; never two hold it together, and each gets it.
func TestMessageSendTurnsAreExclusive(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			url := be.URL(t)
			instances := []*store.Store{storetest.Open(t, url), storetest.Open(t, url)}
			b := uuid.New()
			var holders, most, done atomic.Int32
			var wg sync.WaitGroup
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := instances[i%2]
					for range 500 {
						now := time.Now()
						c := store.SendClaim{BookingID: b, Channel: "email", MessageID: fmt.Sprint("m", i), Now: now, Until: now.Add(time.Minute)}
						got, err := s.ClaimMessageSend(context.Background(), c)
						if err != nil {
							t.Error(err)
							return
						}
						if got == store.ClaimBusy {
							time.Sleep(time.Millisecond)
							continue
						}
						h := holders.Add(1)
						for m := most.Load(); h > m && !most.CompareAndSwap(m, h); m = most.Load() {
						}
						time.Sleep(2 * time.Millisecond)
						holders.Add(-1)
						if err := s.FinishMessageSend(context.Background(), c, true); err != nil {
							t.Error(err)
						}
						done.Add(1)
						return
					}
				}()
			}
			wg.Wait()
			if most.Load() != 1 || done.Load() != 16 {
				t.Errorf("got at most %d holders at once and %d of 16 senders served, want 1 and 16", most.Load(), done.Load())
			}
		})
	}
}
