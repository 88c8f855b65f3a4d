package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// draftFor drafts a web request for slot by the patient p.
func draftFor(t testing.TB, slot uuid.UUID, p booking.PatientInput) store.Draft {
	t.Helper()
	sev, yes, reason := 5, true, "back pain"
	req, err := booking.ParseRequest(booking.RequestInput{
		SlotID: slot.String(), Patient: p,
		Intake:  booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return func(info booking.SlotInfo) (booking.Booking, booking.Event, error) {
		b, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, time.Now())
		return b, ev, err
	}
}

// TestBookingsJoinTheirPatient books for people who share a date of birth
// and a phone or an email (in any case), and checks which bookings share a
// record, when booked and when attached by the migration.
func TestBookingsJoinTheirPatient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		people := []booking.PatientInput{
			{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: "+14245550123", Email: "ana@example.com"},      // A
			{FirstName: "Ana", LastName: "López", DateOfBirth: "1980-04-02", Phone: "+1 (424) 555-0123", Email: "new@example.com"}, // A: phone
			{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: "+14245559999", Email: " ANA@Example.com"},     // A: email
			{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: "+14245558888", Email: "other@example.com"},    // B: neither
			{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1981-04-02", Phone: "+14245550123", Email: "ana@example.com"},      // C: another birthday
			{FirstName: "Bo", LastName: "Kim", DateOfBirth: "1980-04-02", Phone: "+14245558888"},                                   // B: phone, no email
			{FirstName: "Cy", LastName: "Kim", DateOfBirth: "1980-04-02", Phone: "+14245557777"},                                   // D: an empty email matches nothing
		}
		want := []int{0, 0, 0, 1, 2, 1, 3}
		var ids []uuid.UUID
		for _, p := range people {
			sl := slot(1, booking.SlotOpen)
			c, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, p), nil)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.Booking.ID)
		}
		check := func(when string) {
			t.Helper()
			groups := map[uuid.UUID]int{}
			for i, id := range ids {
				b, _, err := s.Booking(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if b.PatientID == uuid.Nil {
					t.Fatalf("%s: booking %d has no patient", when, i)
				}
				g, ok := groups[b.PatientID]
				if !ok {
					g = len(groups)
					groups[b.PatientID] = g
				}
				if g != want[i] {
					t.Errorf("%s: booking %d is with patient #%d, want #%d", when, i, g, want[i])
				}
			}
			for pid, g := range groups {
				rec, err := s.Patient(ctx, pid)
				if err != nil {
					t.Fatal(err)
				}
				first := people[slices.Index(want, g)]
				if rec.Details.FirstName != first.FirstName || rec.Details.DateOfBirth.String() != first.DateOfBirth {
					t.Errorf("%s: patient #%d holds %+v, want the first booking's details", when, g, rec.Details)
				}
				bookings, err := s.PatientBookings(ctx, pid)
				if err != nil {
					t.Fatal(err)
				}
				for i := 1; i < len(bookings); i++ {
					if bookings[i].Booking.CreatedAt.After(bookings[i-1].Booking.CreatedAt) {
						t.Errorf("%s: patient bookings not newest first", when)
					}
				}
			}
		}
		check("booked")
		if err := store.RedoPatientBackfill(ctx, s); err != nil {
			t.Fatal(err)
		}
		check("migrated")
	})
}

// TestConcurrentBookingsMakeOnePatient books one new person into many slots
// at once: they all join one record.
func TestConcurrentBookingsMakeOnePatient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		const n = 12
		var slots []booking.Slot
		for range n {
			slots = append(slots, slot(1, booking.SlotOpen))
		}
		p := booking.PatientInput{FirstName: "Dee", LastName: "New", DateOfBirth: "1990-01-01", Phone: "+14245551111", Email: "dee@example.com"}
		var wg sync.WaitGroup
		pids := make([]uuid.UUID, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := s.CreateBooking(ctx, slots[i].ID, draftFor(t, slots[i].ID, p), nil)
				pids[i], errs[i] = c.Booking.PatientID, err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("booking %d: %v", i, err)
			}
			if pids[i] != pids[0] || pids[i] == uuid.Nil {
				t.Errorf("booking %d: patient %s, want %s", i, pids[i], pids[0])
			}
		}
		list, _, err := s.ListPatients(ctx, "1990-01-01", "", 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Errorf("patients born 1990-01-01: got %d, want 1", len(list))
		}
	})
}

func TestMergeAndUpdatePatient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		book := func(p booking.PatientInput) uuid.UUID {
			sl := slot(1, booking.SlotOpen)
			c, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, p), nil)
			if err != nil {
				t.Fatal(err)
			}
			return c.Booking.PatientID
		}
		a := book(booking.PatientInput{FirstName: "Eve", LastName: "Ng", DateOfBirth: "1970-05-05", Phone: "+14245552222"})
		a2 := book(booking.PatientInput{FirstName: "Eve", LastName: "Ng", DateOfBirth: "1970-05-05", Phone: "+14245552222"})
		b := book(booking.PatientInput{FirstName: "Eve", LastName: "Ng", DateOfBirth: "1970-05-05", Phone: "+14245553333"})
		c := book(booking.PatientInput{FirstName: "Zed", LastName: "Ng", DateOfBirth: "1970-05-06", Phone: "+14245554444"})
		if a != a2 || a == b {
			t.Fatalf("patients: %s %s %s", a, a2, b)
		}
		actor := uuid.New()
		for _, tt := range []struct {
			from, into uuid.UUID
			want       error
		}{
			{a, a, booking.ErrMergeConflict},
			{a, uuid.New(), booking.ErrNotFound},
			{b, a, nil},
			{b, a, booking.ErrMergeConflict}, // b is merged already
			{c, b, booking.ErrMergeConflict}, // into a merged one
		} {
			_, _, err := s.MergePatient(ctx, tt.from, tt.into, actor, "127.0.0.1", time.Now())
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("merge %s into %s: got %v, want %v", tt.from, tt.into, err, tt.want)
			}
		}
		bookings, err := s.PatientBookings(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if len(bookings) != 3 {
			t.Errorf("bookings of the merged patient: got %d, want 3", len(bookings))
		}
		if left, _ := s.PatientBookings(ctx, b); len(left) != 0 {
			t.Errorf("the merged-away patient keeps %d bookings", len(left))
		}
		// A booking for b's details now joins a: b no longer matches.
		if got := book(booking.PatientInput{FirstName: "Eve", LastName: "Ng", DateOfBirth: "1970-05-05", Phone: "+14245553333"}); got == b {
			t.Errorf("a booking joined the merged-away patient")
		}
		audit, _, err := s.ListAudit(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(audit) == 0 || audit[0].Type != "patient_merged" || audit[0].ActorStaffID == nil || *audit[0].ActorStaffID != actor {
			t.Errorf("audit: got %+v, want a patient_merged event by the actor", audit)
		}

		rec, _ := s.Patient(ctx, a)
		stale := rec.Version - 1
		name := "Evelyn"
		if _, err := s.UpdatePatient(ctx, a, &stale, func(r *booking.PatientRecord) (bool, error) { return true, nil }); !errors.Is(err, booking.ErrVersionMismatch) {
			t.Errorf("stale update: got %v, want version mismatch", err)
		}
		got, err := s.UpdatePatient(ctx, a, &rec.Version, func(r *booking.PatientRecord) (bool, error) {
			return r.Apply(booking.PatientPatch{FirstName: &name}, time.Now()), nil
		})
		if err != nil || got.Details.FirstName != "Evelyn" || got.Version != rec.Version+1 {
			t.Errorf("update: got %+v, %v", got, err)
		}
		if _, err := s.UpdatePatient(ctx, b, nil, func(r *booking.PatientRecord) (bool, error) { return true, nil }); !errors.Is(err, booking.ErrMergeConflict) {
			t.Errorf("update of a merged patient: got %v, want merge conflict", err)
		}
		for _, q := range []string{"evelyn", "EVE NG", "2222", "(424) 555-2222", "1970-05-05", "evelyn ng"} {
			list, _, err := s.ListPatients(ctx, q, "", 50)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(list, func(r booking.PatientRecord) bool { return r.ID == a }) {
				t.Errorf("search %q does not find the patient", q)
			}
			if slices.ContainsFunc(list, func(r booking.PatientRecord) bool { return r.ID == b }) {
				t.Errorf("search %q finds the merged-away patient", q)
			}
		}
	})
}

// TestSearchPages pages through a search that matches more than a page, on
// bookings and patients: every match once, newest first.
func TestSearchPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		var want []uuid.UUID
		for i := range 7 {
			sl := slot(1, booking.SlotOpen)
			p := booking.PatientInput{FirstName: "Ida", LastName: "Pagewood", DateOfBirth: fmt.Sprintf("1960-01-%02d", i+1), Phone: fmt.Sprintf("+1424555%04d", 4000+i)}
			c, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, p), nil)
			if err != nil {
				t.Fatal(err)
			}
			want = append([]uuid.UUID{c.Booking.ID}, want...)
			time.Sleep(2 * time.Millisecond) // distinct creation times, mostly
		}
		var got []uuid.UUID
		cur := ""
		for range 10 {
			items, next, err := s.ListBookings(ctx, store.BookingFilter{Search: booking.ParseSearch("pagewood"), Limit: 3, Cursor: cur})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				got = append(got, it.Booking.ID)
			}
			if cur = next; cur == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("bookings: got %v, want %v", got, want)
		}
		var patients []uuid.UUID
		cur = ""
		for range 10 {
			items, next, err := s.ListPatients(ctx, "ida pagewood", cur, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				patients = append(patients, it.ID)
			}
			if cur = next; cur == "" {
				break
			}
		}
		if len(patients) != 7 {
			t.Errorf("patients: got %d, want 7", len(patients))
		}
		seen := map[uuid.UUID]bool{}
		for _, id := range patients {
			if seen[id] {
				t.Errorf("patient %s twice", id)
			}
			seen[id] = true
		}
	})
}
