package httpapi_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/storetest"
)

// offered lists the slots GET /v1/availability offers for the days
// of slots k made (three days ahead and on), asking twice so that the
// second answer comes from the cache.
func (k *clinic) offered(t testing.TB) []string {
	t.Helper()
	from := time.Now().UTC().Add(72 * time.Hour)
	q := clinicDays(from, from.AddDate(0, 0, 5))
	k.e.available(q)
	return k.e.available(q)
}

// The cache never offers a place that is taken: right after the call that
// took it (or blocked the slot) returns, the next answer leaves it out; a
// place released comes back as soon.
func TestCachedAvailabilityNeverOffersATakenPlace(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		reception := e.token(auth.RoleReception)
		last := k.slot(t, slotOpts{})
		two := k.slot(t, slotOpts{capacity: 2})
		if got := k.offered(t); !slices.Contains(got, last.String()) || !slices.Contains(got, two.String()) {
			t.Fatalf("before: got %v, want both slots", got)
		}
		first := k.request(t, last)
		if got := k.offered(t); slices.Contains(got, last.String()) {
			t.Fatalf("after booking the last place: still offered in %v", got)
		}
		k.request(t, two)
		if got := k.offered(t); !slices.Contains(got, two.String()) {
			t.Errorf("one place of two taken: got %v, want it still offered", got)
		}
		second := k.request(t, two)
		if got := k.offered(t); slices.Contains(got, two.String()) {
			t.Errorf("both places taken: still offered in %v", got)
		}
		// The patient cancels: the place is offered again at once.
		if r := e.do("POST", "/v1/booking-requests/"+first.Reference+"/cancel", nil, first.token()); r.Status != http.StatusOK {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		if got := k.offered(t); !slices.Contains(got, last.String()) {
			t.Errorf("after the cancellation: got %v, want %s offered again", got, last)
		}
		// Reception declines a pending request: released too.
		if r := e.do("POST", "/v1/bookings/"+second.ID+"/decline", map[string]string{"reason": "full"}, reception); r.Status != http.StatusOK {
			t.Fatalf("decline: %d %s", r.Status, r.Body)
		}
		if got := k.offered(t); !slices.Contains(got, two.String()) {
			t.Errorf("after the decline: got %v, want %s offered again", got, two)
		}
		// Blocked by reception: gone at once.
		if r := e.do("PATCH", "/v1/slots/"+last.String(), map[string]any{"status": "blocked"}, reception); r.Status != http.StatusOK {
			t.Fatalf("block: %d %s", r.Status, r.Body)
		}
		if got := k.offered(t); slices.Contains(got, last.String()) {
			t.Errorf("after blocking: still offered in %v", got)
		}
	}, noRateLimit)
}

// Under concurrent booking, no availability answer to a request sent after
// a booking returned offers that booking's place.
func TestCachedAvailabilityUnderConcurrentBookings(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		const slots, readers = 24, 4
		ids := make([]uuid.UUID, slots)
		for i := range ids {
			ids[i] = k.slot(t, slotOpts{})
		}
		from := time.Now().UTC().Add(72 * time.Hour)
		q := "/v1/availability?" + clinicDays(from, from.AddDate(0, 0, 5))
		var takenAt sync.Map // slot id -> time its booking returned
		var done atomic.Bool
		var wg sync.WaitGroup
		errs := make(chan error, readers+1)
		answers := atomic.Int64{}
		for range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !done.Load() {
					sent := time.Now()
					r, err := e.send("GET", q, nil)
					if err != nil || r.Status != http.StatusOK {
						errs <- fmt.Errorf("availability: %v %d", err, r.Status)
						return
					}
					answers.Add(1)
					var a availabilityJSON
					if err := json.Unmarshal(r.Body, &a); err != nil {
						errs <- err
						return
					}
					for _, d := range a.Days {
						for _, sl := range d.Slots {
							if at, ok := takenAt.Load(sl.ID); ok && at.(time.Time).Before(sent) {
								errs <- fmt.Errorf("slot %s offered by a request sent %v after its booking returned",
									sl.ID, sent.Sub(at.(time.Time)))
								return
							}
						}
					}
				}
			}()
		}
		for _, id := range ids {
			r, err := e.send("POST", "/v1/booking-requests", requestBody(id))
			if err != nil || r.Status != http.StatusCreated {
				t.Fatalf("booking: %v %d %s", err, r.Status, r.Body)
			}
			takenAt.Store(id.String(), time.Now())
			time.Sleep(2 * time.Millisecond)
		}
		done.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if answers.Load() < slots {
			t.Errorf("only %d availability answers during the bookings", answers.Load())
		}
		if got := k.offered(t); len(got) != 0 {
			t.Errorf("after all bookings: got %v, want nothing offered", got)
		}
	}, noRateLimit)
}

// A cached answer follows the clock: a slot leaves it when it comes closer
// than MIN_NOTICE, and a slot enters it when it comes within MAX_ADVANCE,
// with no write in between.
func TestCachedAvailabilityFollowsTheClock(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			st := storetest.Open(t, be.URL(t))
			authSvc, err := auth.NewService(st, auth.Options{JWTSecret: []byte("test-secret-test-secret-test-secret!"), PasswordCost: 4})
			if err != nil {
				t.Fatal(err)
			}
			real := time.Now().UTC().Truncate(time.Second)
			var offset atomic.Int64
			h, err := httpapi.NewServer(httpapi.Deps{
				Store: st, Auth: authSvc, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(),
				Now:     func() time.Time { return time.Now().Add(time.Duration(offset.Load())) },
				Options: httpapi.Options{BodyLimit: 64 << 10, Policy: testPolicy},
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			e := &env{t: t, URL: srv.URL, Store: st, Auth: authSvc, client: srv.Client()}
			k := newClinic(t, e)
			soon := k.slot(t, slotOpts{start: real.Add(testPolicy.MinNotice + time.Hour)})
			far := k.slot(t, slotOpts{start: real.Add(testPolicy.MaxAdvance + time.Hour)})
			nearQ := clinicDays(real, real.Add(testPolicy.MinNotice+2*time.Hour))
			farQ := clinicDays(real.Add(testPolicy.MaxAdvance), real.Add(testPolicy.MaxAdvance+2*time.Hour))
			e.available(nearQ)
			if got := e.available(nearQ); !slices.Contains(got, soon.String()) {
				t.Fatalf("now: got %v, want %s", got, soon)
			}
			if got := e.available(farQ); slices.Contains(got, far.String()) {
				t.Fatalf("now: got %v, want %s not yet bookable", got, far)
			}
			offset.Store(int64(time.Hour + time.Minute)) // soon is now within MIN_NOTICE, far within MAX_ADVANCE
			if got := e.available(nearQ); slices.Contains(got, soon.String()) {
				t.Errorf("an hour later: still offers %s, now within MIN_NOTICE", soon)
			}
			if got := e.available(farQ); !slices.Contains(got, far.String()) {
				t.Errorf("an hour later: got %v, want %s, now within MAX_ADVANCE", got, far)
			}
		})
	}
}

// Several instances on one database: a place booked through one leaves the
// others' cached answers, on SQLite within a millisecond (they read the
// file's commit counter), on PostgreSQL as soon as the notification
// arrives.
func TestCachedAvailabilityAcrossInstances(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			url := be.URL(t)
			a, b := newEnv(t, url, noRateLimit), newEnv(t, url, noRateLimit)
			k := newClinic(t, a)
			slot := k.slot(t, slotOpts{})
			from := time.Now().UTC().Add(72 * time.Hour)
			q := clinicDays(from, from.AddDate(0, 0, 5))
			// On PostgreSQL b caches once its listener is connected.
			deadline := time.Now().Add(10 * time.Second)
			for !slices.Contains(b.available(q), slot.String()) {
				if time.Now().After(deadline) {
					t.Fatal("instance b never offered the slot")
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			b.available(q)
			b.available(q) // cached
			k.request(t, slot)
			booked := time.Now()
			for slices.Contains(b.available(q), slot.String()) {
				if time.Since(booked) > 5*time.Second {
					t.Fatal("instance b still offers the place 5s after instance a booked it")
				}
				time.Sleep(time.Millisecond)
			}
			t.Logf("instance b stopped offering the place %v after instance a's booking returned", time.Since(booked))
		})
	}
}

// Two instances on one database, two providers: a booking through one
// instance, or a write straight to the database, drops the place from both
// instances' answers about that provider and about the whole clinic (at
// once on the instance that booked, within the watch's bound on the other),
// and a browser revalidating an answer that changed never gets 304 for it,
// while an answer about the other provider still revalidates.
func TestCachedAvailabilityByProviderAcrossInstances(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			url := be.URL(t)
			a, b := newEnv(t, url, noRateLimit), newEnv(t, url, noRateLimit)
			k := newClinic(t, a)
			mine := k.slot(t, slotOpts{})
			theirs := k.slot(t, slotOpts{provider: k.provider2})
			from := time.Now().UTC().Add(72 * time.Hour)
			clinicQ := clinicDays(from, from.AddDate(0, 0, 5))
			mineQ, theirsQ := clinicQ+"&provider_id="+k.provider.String(), clinicQ+"&provider_id="+k.provider2.String()
			// On PostgreSQL b caches once its listener is connected.
			deadline := time.Now().Add(10 * time.Second)
			for !slices.Contains(b.available(mineQ), mine.String()) {
				if time.Now().After(deadline) {
					t.Fatal("instance b never offered the slot")
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			etag := func(e *env, q string) string {
				t.Helper()
				r := e.do("GET", "/v1/availability?"+q, nil)
				if r.Status != http.StatusOK {
					t.Fatalf("availability?%s: %d %s", q, r.Status, r.Body)
				}
				return r.Header.Get("ETag")
			}
			revalidate := func(e *env, q, tag string) int {
				t.Helper()
				return e.do("GET", "/v1/availability?"+q, nil, "If-None-Match: "+tag).Status
			}
			awaitGone := func(e *env, q string, slot uuid.UUID, what string) {
				t.Helper()
				since := time.Now()
				for slices.Contains(e.available(q), slot.String()) {
					if time.Since(since) > 5*time.Second {
						t.Fatalf("%s: %s still offered 5s after the write", what, q)
					}
					time.Sleep(time.Millisecond)
				}
			}
			for _, e := range []*env{a, b} {
				e.available(clinicQ)
				e.available(mineQ)
				e.available(theirsQ) // cached
			}
			mineTag, theirsTag := etag(b, mineQ), etag(b, theirsQ)

			k.request(t, mine) // through a
			if got := a.available(mineQ); slices.Contains(got, mine.String()) {
				t.Fatalf("instance a offers the place it just booked: %v", got)
			}
			if got := a.available(clinicQ); slices.Contains(got, mine.String()) {
				t.Fatalf("instance a offers the place it just booked for the whole clinic: %v", got)
			}
			if st := revalidate(a, mineQ, mineTag); st != http.StatusOK {
				t.Errorf("instance a: revalidating the provider's answer after the booking: %d, want 200", st)
			}
			awaitGone(b, mineQ, mine, "instance b, the provider")
			awaitGone(b, clinicQ, mine, "instance b, the clinic")
			if st := revalidate(b, mineQ, mineTag); st != http.StatusOK {
				t.Errorf("instance b: revalidating the provider's answer after the booking: %d, want 200", st)
			}
			for _, e := range []*env{a, b} {
				if st := revalidate(e, theirsQ, theirsTag); st != http.StatusNotModified {
					t.Errorf("revalidating the other provider's answer: %d, want 304", st)
				}
				if got := e.available(theirsQ); !slices.Contains(got, theirs.String()) {
					t.Errorf("the other provider's place is gone: %v", got)
				}
			}

			// A write by neither instance (a maintenance script).
			setBooked(t, url, theirs.String(), 1)
			awaitGone(a, theirsQ, theirs, "instance a, after a direct write")
			awaitGone(b, theirsQ, theirs, "instance b, after a direct write")
			awaitGone(b, clinicQ, theirs, "instance b, the clinic, after a direct write")
			if st := revalidate(b, theirsQ, theirsTag); st != http.StatusOK {
				t.Errorf("instance b: revalidating after a direct write: %d, want 200", st)
			}
		})
	}
}
