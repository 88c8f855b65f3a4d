package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// A booking and the patient record made with it are one search document on
// SQLite (00097), and each search still finds what it found before: the
// booking by its reference, the record never by a booking's reference;
// once the record's words change, each is found by its own words.
func TestOneSearchDocumentForABookingAndItsNewRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		in := booking.PatientInput{FirstName: "Ivo", LastName: "Sharer", DateOfBirth: "1971-09-03", Phone: "+14245557301", Email: "ivo@example.com"}
		sqlite := s.Dialect() == store.SQLite
		sl1 := slot(1, booking.SlotOpen)
		first, err := s.CreateBooking(ctx, sl1.ID, draftFor(t, sl1.ID, in), nil)
		if err != nil {
			t.Fatal(err)
		}
		docs := func(want int) {
			t.Helper()
			if !sqlite {
				return
			}
			if got, err := store.SearchDocuments(ctx, s); err != nil || got != want {
				t.Errorf("search documents: got %d (%v), want %d", got, err, want)
			}
		}
		docs(1)
		sl2 := slot(1, booking.SlotOpen)
		second, err := s.CreateBooking(ctx, sl2.ID, draftFor(t, sl2.ID, in), nil) // the same record again
		if err != nil {
			t.Fatal(err)
		}
		docs(2)
		rec := first.Booking.PatientID

		both := []string{first.Booking.Reference, second.Booking.Reference}
		slices.Sort(both)
		check := func(stage string, tests []struct {
			q        string
			bookings []string
			patients []string
		}) {
			t.Helper()
			for _, tt := range tests {
				if got := searchRefs(t, s, tt.q); !slices.Equal(got, tt.bookings) {
					t.Errorf("%s: bookings for %q: got %v, want %v", stage, tt.q, got, tt.bookings)
				}
				if got := searchPatients(t, s, tt.q, func(r booking.PatientRecord) string { return r.Details.LastName }, false); !slices.Equal(got, tt.patients) {
					t.Errorf("%s: patients for %q: got %v, want %v", stage, tt.q, got, tt.patients)
				}
			}
		}
		type want = []struct {
			q        string
			bookings []string
			patients []string
		}
		check("made", want{
			{"sharer", both, []string{"Sharer"}},
			{"555 7301", both, []string{"Sharer"}},
			{first.Booking.Reference, []string{first.Booking.Reference}, nil},
			{second.Booking.Reference, []string{second.Booking.Reference}, nil},
		})

		if _, err := s.UpdatePatient(ctx, rec, nil, func(r *booking.PatientRecord) (bool, error) {
			r.Details.LastName = "Splitter"
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		docs(3) // the record's own document; the bookings keep theirs
		check("record renamed", want{
			{"sharer", both, nil},
			{"splitter", nil, []string{"Splitter"}},
			{first.Booking.Reference, []string{first.Booking.Reference}, nil},
		})
		if n, err := store.SearchQueued(ctx, s); err != nil || n != 0 {
			t.Errorf("queued after the commits: %d, %v; want 0", n, err)
		}
	})
}

// searchRefs is the references of the bookings a search of q finds, sorted.
func searchRefs(t *testing.T, s *store.Store, q string) []string {
	t.Helper()
	items, _, err := s.ListBookings(context.Background(), store.BookingFilter{Search: booking.ParseSearch(q), Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Booking.Reference)
	}
	slices.Sort(out)
	return out
}

// searchPatients is what name says of each patient record a search of q
// finds, in the list's order or sorted.
func searchPatients(t *testing.T, s *store.Store, q string, name func(booking.PatientRecord) string, sorted bool) []string {
	t.Helper()
	recs, _, err := s.ListPatients(context.Background(), q, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, name(r))
	}
	if sorted {
		slices.Sort(out)
	}
	return out
}
