package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/storetest"
)

// keyQuery turns an availability cache key (from|to|type|provider|location)
// back into the query string that asks it.
func keyQuery(key string) string {
	p := strings.Split(key, "|")
	q := "from=" + p[0] + "&to=" + p[1]
	for i, name := range []string{"consultation_type_id", "provider_id", "location_id"} {
		if p[2+i] != "" {
			q += "&" + name + "=" + p[2+i]
		}
	}
	return q
}

// Bookings, cancellations and holds on two instances at once patch the
// cached answers instead of dropping them, and at every quiet moment each
// answer either instance would serve from its cache is, byte for byte and
// ETag for ETag, what a server without a cache computes afresh.
func TestPatchedAvailabilityMatchesRecomputation(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			url := be.URL(t)
			a, b := newEnv(t, url, manyHolds), newEnv(t, url, manyHolds)
			fresh := newEnv(t, url, noRateLimit, func(o *httpapi.Options, _ *auth.Options) { o.NoAvailabilityCache = true })
			k := newClinic(t, a)
			var slots []uuid.UUID
			for i := range 16 {
				o := slotOpts{capacity: 1 + i%3}
				if i%2 == 1 {
					o.provider = k.provider2
				}
				slots = append(slots, k.slot(t, o))
			}
			from := time.Now().UTC().Add(72 * time.Hour)
			var questions []string
			for d := range 3 {
				day := clinicDays(from.AddDate(0, 0, d), from.AddDate(0, 0, d))
				questions = append(questions, day, day+"&provider_id="+k.provider.String())
			}
			week := clinicDays(from, from.AddDate(0, 0, 5))
			questions = append(questions, week, week+"&provider_id="+k.provider.String(),
				week+"&provider_id="+k.provider2.String(), week+"&location_id="+k.location.String())
			envs := []*env{a, b}
			// On PostgreSQL an instance caches once its listener is connected.
			deadline := time.Now().Add(10 * time.Second)
			for _, e := range envs {
				for {
					e.available(week)
					e.available(week)
					if got, _ := httpapi.CachedAvailability(e.Store, time.Now()); len(got) > 0 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("an instance never cached an answer")
					}
					time.Sleep(10 * time.Millisecond)
				}
			}

			// mismatches compares every answer e would serve from its cache
			// with a fresh computation; empty when they all match.
			mismatches := func(e *env) (bad []string, cached int) {
				got, _ := httpapi.CachedAvailability(e.Store, time.Now())
				keys := make([]string, 0, len(got))
				for key := range got {
					keys = append(keys, key)
				}
				sort.Strings(keys)
				for _, key := range keys {
					q := keyQuery(key)
					want := fresh.do("GET", "/v1/availability?"+q, nil)
					if !bytes.Equal(got[key], want.Body) {
						bad = append(bad, fmt.Sprintf("%s:\n cached %s\n fresh  %s", q, got[key], want.Body))
						continue
					}
					served := e.do("GET", "/v1/availability?"+q, nil)
					if !bytes.Equal(served.Body, want.Body) || served.Header.Get("ETag") != want.Header.Get("ETag") {
						bad = append(bad, fmt.Sprintf("%s: served %s (ETag %s), fresh %s (ETag %s)", q, served.Body,
							served.Header.Get("ETag"), want.Body, want.Header.Get("ETag")))
					}
				}
				return bad, len(keys)
			}

			type booked struct {
				e *env
				c created
			}
			const rounds, workers, opsEach = 6, 8, 12
			for round := range rounds {
				for _, e := range envs {
					for _, q := range questions {
						e.available(q)
					}
				}
				var wg sync.WaitGroup
				errs := make(chan error, workers*opsEach*2+4)
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
						var mine []booked
						for range opsEach {
							e := envs[rng.IntN(2)]
							slot := slots[rng.IntN(len(slots))]
							switch op := rng.IntN(5); {
							case op < 2:
								r, err := e.send("POST", "/v1/booking-requests", requestBody(slot))
								switch {
								case err != nil:
									errs <- err
								case r.Status == http.StatusCreated:
									var c created
									if err := json.Unmarshal(r.Body, &c); err != nil {
										errs <- err
									}
									mine = append(mine, booked{e, c})
								case r.Status != http.StatusConflict:
									errs <- fmt.Errorf("booking: %d %s", r.Status, r.Body)
								}
							case op == 2 && len(mine) > 0:
								i := rng.IntN(len(mine))
								bk := mine[i]
								mine = append(mine[:i], mine[i+1:]...)
								r, err := envs[rng.IntN(2)].send("POST", "/v1/booking-requests/"+bk.c.Reference+"/cancel", nil, bk.c.token())
								if err != nil || r.Status != http.StatusOK {
									errs <- fmt.Errorf("cancel: %v %d %s", err, r.Status, r.Body)
								}
							case op == 3:
								r, err := e.send("POST", "/v1/slot-holds", map[string]any{"slot_id": slot.String()}, fromClient(round*workers+w))
								if err != nil {
									errs <- err
									break
								}
								if r.Status != http.StatusCreated {
									break // full, or this client holds one already
								}
								var h holdJSON
								if err := json.Unmarshal(r.Body, &h); err != nil {
									errs <- err
									break
								}
								if rng.IntN(2) == 0 {
									r, err := envs[rng.IntN(2)].send("DELETE", "/v1/slot-holds/"+h.ID, nil, "X-Hold-Token: "+h.HoldToken)
									if err != nil || r.Status != http.StatusNoContent {
										errs <- fmt.Errorf("release hold: %v %d %s", err, r.Status, r.Body)
									}
								}
							default:
								if _, err := e.send("GET", "/v1/availability?"+questions[rng.IntN(len(questions))], nil); err != nil {
									errs <- err
								}
							}
						}
					}()
				}
				// Readers meanwhile, of ranges seldom asked before: answers
				// computed from a query that ran before a change and cached
				// after it was patched in.
				var stop sync.WaitGroup
				var writing atomic.Bool
				writing.Store(true)
				for r := range 4 {
					stop.Add(1)
					go func() {
						defer stop.Done()
						rng := rand.New(rand.NewPCG(uint64(round), 100+uint64(r)))
						for writing.Load() {
							d := rng.IntN(6)
							q := clinicDays(from.AddDate(0, 0, d), from.AddDate(0, 0, d+rng.IntN(6-d)))
							switch rng.IntN(3) {
							case 0:
								q += "&provider_id=" + k.provider.String()
							case 1:
								q += "&provider_id=" + k.provider2.String()
							}
							if _, err := envs[r%2].send("GET", "/v1/availability?"+q, nil); err != nil {
								errs <- err
								return
							}
						}
					}()
				}
				wg.Wait()
				writing.Store(false)
				stop.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				// Quiet now: the other instance may still be hearing of the
				// last writes (PostgreSQL's notifications), so a mismatch
				// counts only when it lasts.
				for _, e := range envs {
					deadline := time.Now().Add(5 * time.Second)
					for {
						bad, cached := mismatches(e)
						if len(bad) == 0 {
							if cached == 0 {
								t.Errorf("round %d: nothing cached after the writes", round)
							}
							break
						}
						if time.Now().After(deadline) {
							t.Fatalf("round %d: %d cached answers differ from a fresh computation:\n%s", round, len(bad), strings.Join(bad, "\n"))
						}
						time.Sleep(20 * time.Millisecond)
					}
				}
			}
			for i, e := range envs {
				if _, patches := httpapi.CachedAvailability(e.Store, time.Now()); patches == 0 {
					t.Errorf("instance %d patched no place change in", i)
				}
			}
		})
	}
}
