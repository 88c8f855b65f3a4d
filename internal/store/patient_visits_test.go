package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// TestPatientVisits books for three people, moves the bookings along, and
// checks what each record's visits say: only the bookings the patient came
// to (checked in or completed) count, and the latest gives the day.
func TestPatientVisits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		la, err := time.LoadLocation("America/Los_Angeles")
		if err != nil {
			t.Fatal(err)
		}
		ana := booking.PatientInput{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: "+14245550123"}
		bo := booking.PatientInput{FirstName: "Bo", LastName: "Kim", DateOfBirth: "1975-01-01", Phone: "+14245558888"}
		cy := booking.PatientInput{FirstName: "Cy", LastName: "Ng", DateOfBirth: "1990-06-30", Phone: "+14245557777"}
		confirm := []booking.Action{booking.ActionConfirm}
		checkIn := append(confirm, booking.ActionCheckIn)
		complete := append(checkIn, booking.ActionComplete)
		books := []struct {
			who   booking.PatientInput
			steps []booking.Action
		}{
			{ana, complete},
			{ana, []booking.Action{booking.ActionConfirm, booking.ActionCancel}},
			{ana, checkIn},
			{ana, append(confirm, booking.ActionNoShow)},
			{ana, complete}, // her latest visit
			{ana, nil},      // pending, the latest of all: not a visit
			{bo, confirm},
			{cy, complete},
		}
		patients := map[string]uuid.UUID{}
		starts := map[int]time.Time{}
		for i, bk := range books {
			sl := slot(1, booking.SlotOpen)
			starts[i] = sl.StartAt
			c, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, bk.who), nil)
			if err != nil {
				t.Fatal(err)
			}
			patients[bk.who.FirstName] = c.Booking.PatientID
			for _, a := range bk.steps {
				if _, _, err := s.UpdateBooking(ctx, c.Booking.ID, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
					ev, err := b.Apply(a, booking.Actor{Type: booking.ActorSystem}, "", time.Now())
					return []booking.Event{ev}, err
				}); err != nil {
					t.Fatalf("booking %d, %s: %v", i, a, err)
				}
			}
		}
		unknown := uuid.New()
		got, err := s.PatientVisits(ctx, []uuid.UUID{patients["Ana"], patients["Bo"], patients["Cy"], unknown})
		if err != nil {
			t.Fatal(err)
		}
		day := func(i int) string { return booking.DateOf(starts[i], la).String() }
		for _, c := range []struct {
			who   string
			id    uuid.UUID
			count int
			last  string
		}{
			{"Ana", patients["Ana"], 3, day(4)},
			{"Bo", patients["Bo"], 0, ""},
			{"Cy", patients["Cy"], 1, day(7)},
			{"an unknown record", unknown, 0, ""},
		} {
			v := got[c.id]
			last := ""
			if v.LastOn != nil {
				last = v.LastOn.String()
			}
			if v.Count != c.count || last != c.last {
				t.Errorf("%s: %d visits, last on %q; want %d, %q", c.who, v.Count, last, c.count, c.last)
			}
		}
		// The patient search's page carries the same visits, whichever way
		// it is read (on PostgreSQL a one-word search reads them in the
		// page's statement), and only the page's records'.
		for _, c := range []struct {
			q     string
			limit int
		}{{"lopez", 20}, {"a", 20}, {"a", 1}, {"n", 1}, {"o", 2}, {"kim", 20}, {"ana lopez", 20}, {"4245550123", 20}, {"", 2}, {"zzz", 20}} {
			recs, visits, _, err := s.SearchPatients(ctx, c.q, "", c.limit)
			if err != nil {
				t.Fatalf("search %q: %v", c.q, err)
			}
			ids := make([]uuid.UUID, len(recs))
			for i, r := range recs {
				ids[i] = r.ID
			}
			want, err := s.PatientVisits(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(visits) != fmt.Sprint(want) {
				t.Errorf("search %q, limit %d: visits %v; want %v", c.q, c.limit, visits, want)
			}
		}
		if none, err := s.PatientVisits(ctx, nil); err != nil || len(none) != 0 {
			t.Errorf("no records: got %v, %v; want an empty map", none, err)
		}
	})
}

// BenchmarkPatientVisits reads the visits of a page of 50 patient records
// (the patient search's default page) among 60 with 5 bookings each, 3 of
// them visits: the one query a search page adds.
func BenchmarkPatientVisits(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			s := storetest.Open(b, be.URL(b))
			slot := catalogue(b, s)
			var ids []uuid.UUID
			for p := range 60 {
				who := booking.PatientInput{FirstName: "Pat", LastName: fmt.Sprintf("Number%d", p), DateOfBirth: "1980-04-02", Phone: fmt.Sprintf("+1424555%04d", p)}
				for n := range 5 {
					sl := slot(1, booking.SlotOpen)
					c, err := s.CreateBooking(ctx, sl.ID, draftFor(b, sl.ID, who), nil)
					if err != nil {
						b.Fatal(err)
					}
					if n == 0 {
						ids = append(ids, c.Booking.PatientID)
					}
					if n >= 3 {
						continue
					}
					for _, a := range []booking.Action{booking.ActionConfirm, booking.ActionCheckIn} {
						if _, _, err := s.UpdateBooking(ctx, c.Booking.ID, nil, func(bk *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
							ev, err := bk.Apply(a, booking.Actor{Type: booking.ActorSystem}, "", time.Now())
							return []booking.Event{ev}, err
						}); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			page := ids[:50]
			b.ResetTimer()
			for b.Loop() {
				v, err := s.PatientVisits(ctx, page)
				if err != nil || len(v) != 50 || v[page[0]].Count != 3 {
					b.Fatalf("got %d records (%v), %v; want 50 with 3 visits", len(v), v[page[0]], err)
				}
			}
		})
	}
}
