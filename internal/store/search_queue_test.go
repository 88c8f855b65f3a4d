package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// TestSearchFollowsEachCommit checks that the search index changes with the
// transaction that changes a booking or a patient, also when calls are
// committed together (SQLite's group commit) and some of them fail: found
// as soon as the call returns, never when it failed, renamed and merged
// records found as they are now, and nothing left waiting in the queue.
func TestSearchFollowsEachCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		contested := slot(1, booking.SlotOpen)
		own := make([]booking.Slot, 8)
		for i := range own {
			own[i] = slot(1, booking.SlotOpen)
		}
		person := func(last string, i int) booking.PatientInput {
			return booking.PatientInput{FirstName: "Ida", LastName: last, DateOfBirth: fmt.Sprintf("1970-01-%02d", i+1),
				Phone: fmt.Sprintf("+1424555%04d", i), Email: fmt.Sprintf("ida%d@example.com", i)}
		}
		// Sixteen calls at once: eight for places of their own, eight for
		// the one place of the contested slot.
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := map[string]bool{}
		for i := range 16 {
			last, sl := fmt.Sprintf("Ownslot%c", 'a'+i), booking.Slot{}
			if i < 8 {
				sl = own[i]
			} else {
				last, sl = fmt.Sprintf("Contested%c", 'a'+i), contested
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, person(last, i)), nil)
				if err != nil && !errors.Is(err, booking.ErrSlotUnavailable) {
					t.Errorf("%s: %v", last, err)
				}
				mu.Lock()
				won[last] = err == nil
				mu.Unlock()
			}()
		}
		wg.Wait()
		bookingsFound := func(q string) int {
			t.Helper()
			items, _, err := s.ListBookings(ctx, store.BookingFilter{Search: booking.ParseSearch(q), Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			return len(items)
		}
		patientsFound := func(q string) []booking.PatientRecord {
			t.Helper()
			items, _, err := s.ListPatients(ctx, q, "", 50)
			if err != nil {
				t.Fatal(err)
			}
			return items
		}
		winners := 0
		for last, ok := range won {
			want := 0
			if ok {
				want = 1
				if last[0] == 'C' {
					winners++
				}
			}
			if got := bookingsFound(last); got != want {
				t.Errorf("bookings found for %s (booked: %v): %d, want %d", last, ok, got, want)
			}
			if got := len(patientsFound(last)); got != want {
				t.Errorf("patients found for %s (booked: %v): %d, want %d", last, ok, got, want)
			}
		}
		if winners != 1 {
			t.Errorf("%d bookings took the contested place, want 1", winners)
		}

		// A renamed record is found by its new name only.
		rec := patientsFound("Ownslota")
		if len(rec) != 1 {
			t.Fatalf("patients found for Ownslota: %d, want 1", len(rec))
		}
		_, err := s.UpdatePatient(ctx, rec[0].ID, nil, func(r *booking.PatientRecord) (bool, error) {
			r.Details.LastName = "Renamedlast"
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(patientsFound("Renamedlast")); got != 1 {
			t.Errorf("patients found by the new name: %d, want 1", got)
		}
		if got := len(patientsFound("Ownslota")); got != 0 {
			t.Errorf("patients found by the old name: %d, want 0", got)
		}

		// A record merged away is no longer found; the one it joined is.
		from, into := patientsFound("Ownslotb"), patientsFound("Ownslotc")
		if len(from) != 1 || len(into) != 1 {
			t.Fatalf("patients found: %d and %d, want 1 and 1", len(from), len(into))
		}
		if _, _, err := s.MergePatient(ctx, from[0].ID, into[0].ID, uuid.New(), "127.0.0.1", time.Now()); err != nil {
			t.Fatal(err)
		}
		if got := len(patientsFound("Ownslotb")); got != 0 {
			t.Errorf("merged-away patient found: %d, want 0", got)
		}
		if got := len(patientsFound("Ownslotc")); got != 1 {
			t.Errorf("patients found for the merge's target: %d, want 1", got)
		}

		if n, err := store.SearchQueued(ctx, s); err != nil || n != 0 {
			t.Errorf("search documents still queued: %d (%v), want 0", n, err)
		}
	})
}
