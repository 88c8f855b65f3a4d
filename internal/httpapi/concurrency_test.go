package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// race runs n calls of fn at once (released together) and returns their
// responses in call order. A transport error fails the test.
func race(t *testing.T, n int, fn func(i int) (resp, error)) []resp {
	t.Helper()
	out := make([]resp, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// tally counts responses by "status code" ("201", "409 slot_unavailable").
func tally(rs []resp) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		k := fmt.Sprint(r.Status)
		if r.Status >= 400 {
			k += " " + r.code()
		}
		m[k]++
	}
	return m
}

func wantTally(t *testing.T, got map[string]int, want map[string]int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("responses: got %v, want %v", got, want)
	}
}

// checkOccupancy proves rule 1 from the outside: for every slot, the booked
// counter equals the number of bookings that occupy it and is within
// capacity.
func checkOccupancy(t *testing.T, st *store.Store, slots ...uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	occupying := map[uuid.UUID]int{}
	cur := ""
	for {
		page, next, err := st.ListBookings(ctx, store.BookingFilter{Cursor: cur, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page {
			if b.Booking.Status.Occupies() {
				occupying[b.Booking.SlotID]++
			}
		}
		if next == "" {
			break
		}
		cur = next
	}
	for _, id := range slots {
		sl, err := st.Slot(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if sl.Booked != occupying[id] || sl.Booked > sl.Capacity {
			t.Errorf("slot %s: booked %d, occupying bookings %d, capacity %d", id, sl.Booked, occupying[id], sl.Capacity)
		}
	}
}

func TestConcurrentRequestsForTheLastPlaces(t *testing.T) {
	for _, capacity := range []int{1, 3} {
		t.Run(fmt.Sprintf("capacity %d", capacity), func(t *testing.T) {
			eachBackend(t, func(t *testing.T, e *env) {
				k := newClinic(t, e)
				slot := k.slot(t, slotOpts{capacity: capacity})
				const n = 50
				rs := race(t, n, func(i int) (resp, error) {
					body := with(requestBody(slot), "patient.first_name", fmt.Sprintf("Patient%d", i))
					return e.send("POST", "/v1/booking-requests", body)
				})
				wantTally(t, tally(rs), map[string]int{"201": capacity, "409 slot_unavailable": n - capacity})
				checkOccupancy(t, e.Store, slot)
			}, noRateLimit)
		})
	}
}

func TestTwoServersRaceForOnePlace(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			one, two := newEnv(t, url, noRateLimit), newEnv(t, url, noRateLimit)
			k := newClinic(t, one)
			slot := k.slot(t, slotOpts{})
			rec1, rec2 := one.token(auth.RoleReception), two.token(auth.RoleReception)
			const n = 40
			rs := race(t, n, func(i int) (resp, error) {
				e, rec := one, rec1
				if i%2 == 1 {
					e, rec = two, rec2
				}
				if i%4 < 2 {
					return e.send("POST", "/v1/booking-requests", requestBody(slot))
				}
				return e.send("POST", "/v1/bookings", requestBody(slot), rec)
			})
			wantTally(t, tally(rs), map[string]int{"201": 1, "409 slot_unavailable": n - 1})
			checkOccupancy(t, one.Store, slot)
		})
	}
}

func TestConcurrentReschedulesIntoTheLastPlace(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		target := k.slot(t, slotOpts{capacity: 2})
		k.request(t, target) // one of two places taken
		const n = 20
		sources := make([]uuid.UUID, n)
		bookings := make([]created, n)
		for i := range n {
			sources[i] = k.slot(t, slotOpts{})
			bookings[i] = k.request(t, sources[i])
		}
		rs := race(t, n, func(i int) (resp, error) {
			move := map[string]string{"slot_id": target.String()}
			if i%2 == 0 {
				return e.send("POST", "/v1/bookings/"+bookings[i].ID+"/reschedule", move, rec)
			}
			return e.send("POST", "/v1/booking-requests/"+bookings[i].Reference+"/reschedule", move, bookings[i].token())
		})
		wantTally(t, tally(rs), map[string]int{"200": 1, "409 slot_unavailable": n - 1})
		if got := k.booked(t, target); got != 2 {
			t.Errorf("target booked: got %d, want 2", got)
		}
		checkOccupancy(t, e.Store, append(sources, target)...)
	}, noRateLimit)
}

func TestConcurrentConfirmsHaveOneWinner(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		tokens := []string{e.token(auth.RoleReception), e.token(auth.RoleAdmin)}
		c := k.request(t, k.slot(t, slotOpts{}))
		const n = 20
		rs := race(t, n, func(i int) (resp, error) {
			return e.send("POST", "/v1/bookings/"+c.ID+"/confirm", nil, tokens[i%2])
		})
		wantTally(t, tally(rs), map[string]int{"200": 1, "409 invalid_transition": n - 1})
		events, err := e.Store.BookingEvents(context.Background(), uuid.MustParse(c.ID))
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || events[1].Type != booking.EventConfirmed {
			t.Errorf("events: got %d, want created and one confirmed", len(events))
		}
		b, _, err := e.Store.Booking(context.Background(), uuid.MustParse(c.ID))
		if err != nil || b.Version != 2 {
			t.Errorf("version after one confirm: got %d (%v), want 2", b.Version, err)
		}
	}, noRateLimit)
}

func TestConcurrentSameIdempotencyKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		slot := k.slot(t, slotOpts{capacity: 5})
		key := "Idempotency-Key: " + uuid.NewString()
		const n = 20
		rs := race(t, n, func(int) (resp, error) {
			return e.send("POST", "/v1/booking-requests", requestBody(slot), key)
		})
		wantTally(t, tally(rs), map[string]int{"201": n})
		for _, r := range rs[1:] {
			if string(r.Body) != string(rs[0].Body) {
				t.Fatalf("responses differ:\n%s\n%s", rs[0].Body, r.Body)
			}
		}
		if got := k.booked(t, slot); got != 1 {
			t.Errorf("booked: got %d, want 1", got)
		}
	}, noRateLimit)
}

// TestChaosKeepsOccupancyTrue mixes every kind of write on a few small slots
// at once, then checks rule 1's bookkeeping for each slot.
func TestChaosKeepsOccupancyTrue(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		slots := []uuid.UUID{k.slot(t, slotOpts{capacity: 2}), k.slot(t, slotOpts{capacity: 1}), k.slot(t, slotOpts{capacity: 3})}
		var existing []created
		for _, s := range slots {
			existing = append(existing, k.request(t, s))
		}
		const n = 60
		rs := race(t, n, func(i int) (resp, error) {
			rnd := rand.New(rand.NewPCG(uint64(i), 7))
			slot := slots[rnd.IntN(len(slots))]
			c := existing[rnd.IntN(len(existing))]
			switch i % 6 {
			case 0:
				return e.send("POST", "/v1/booking-requests", requestBody(slot))
			case 1:
				return e.send("POST", "/v1/bookings", requestBody(slot), rec)
			case 2:
				return e.send("POST", "/v1/bookings/"+c.ID+"/reschedule", map[string]string{"slot_id": slot.String()}, rec)
			case 3:
				return e.send("POST", "/v1/bookings/"+c.ID+"/cancel", map[string]string{}, rec)
			case 4:
				return e.send("POST", "/v1/bookings/"+c.ID+"/confirm", nil, rec)
			default:
				return e.send("POST", "/v1/booking-requests/"+c.Reference+"/reschedule", map[string]string{"slot_id": slot.String()}, c.token())
			}
		})
		for _, r := range rs {
			if r.Status >= 500 {
				t.Errorf("server error: %d %s", r.Status, r.Body)
			}
			if r.Status != http.StatusOK && r.Status != http.StatusCreated && r.Status != http.StatusConflict && r.Status != http.StatusUnprocessableEntity {
				t.Errorf("unexpected %d %s", r.Status, r.Body)
			}
		}
		checkOccupancy(t, e.Store, slots...)
	}, noRateLimit)
}
