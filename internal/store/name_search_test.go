package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// nameSearchPeople are patients whose names a receptionist types as the
// caller says them: without the apostrophe or hyphen, without accents, or
// with accents the record lacks.
var nameSearchPeople = []booking.PatientInput{
	{FirstName: "Seán", LastName: "O'Brien", Email: "sean@example.com"},
	{FirstName: "Ana", LastName: "O’Brien"}, // a typographic apostrophe (U+2019)
	{FirstName: "Mary", LastName: "Smith-Jones"},
	{FirstName: "Lía", LastName: "D'Angelo", Email: "lia.d'angelo@example.com"},
	{FirstName: "Rosa", LastName: "Pérez"},
	{FirstName: "Luis", LastName: "Perez"},
	{FirstName: "José", LastName: "Muñoz"},
}

// nameSearchCases are what the desk types and whom it must find (first and
// last name), on both databases alike.
var nameSearchCases = []struct {
	q    string
	want []string
}{
	{"obrien", []string{"Ana O’Brien", "Seán O'Brien"}},
	{"O'Brien", []string{"Ana O’Brien", "Seán O'Brien"}},
	{"o’brien", []string{"Ana O’Brien", "Seán O'Brien"}},
	{"o brien", []string{"Ana O’Brien", "Seán O'Brien"}},
	{"sean obrien", []string{"Seán O'Brien"}},
	{"smithjones", []string{"Mary Smith-Jones"}},
	{"Smith-Jones", []string{"Mary Smith-Jones"}},
	{"smith jones", []string{"Mary Smith-Jones"}},
	{"smith - jones", []string{"Mary Smith-Jones"}},
	{"dangelo", []string{"Lía D'Angelo"}},
	{"D’Angelo", []string{"Lía D'Angelo"}},
	{"lia.d'angelo@example.com", []string{"Lía D'Angelo"}},
	{"perez", []string{"Luis Perez", "Rosa Pérez"}},
	{"pérez", []string{"Luis Perez", "Rosa Pérez"}},
	{"PÉREZ rosa", []string{"Rosa Pérez"}},
	{"munoz", []string{"José Muñoz"}},
	{"muñoz", []string{"José Muñoz"}},
	{"jose", []string{"José Muñoz"}},
	{"josé", []string{"José Muñoz"}},
	{"'", nil},
	{"-", nil},
	{"' - ’", nil},
	{"%", nil},
}

// TestNamesWithApostrophesHyphensAndAccents checks that reception finds
// bookings and patient records by names typed without their punctuation
// or accents, or with accents the record lacks, the same on both
// databases, and that a search of punctuation only finds nothing. On
// SQLite every booking still shares its new patient's search document.
func TestNamesWithApostrophesHyphensAndAccents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		for i, p := range nameSearchPeople {
			sl := slot(1, booking.SlotOpen)
			p.DateOfBirth, p.Phone = "1980-04-02", fmt.Sprintf("+3461234%04d", i)
			if _, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, p), nil); err != nil {
				t.Fatal(err)
			}
		}
		checkNameSearches(t, s)
		if n, err := store.SearchDocuments(ctx, s); err != nil || s.Dialect() == store.SQLite && n != len(nameSearchPeople) {
			t.Errorf("search documents: got %d (%v), want %d (each booking shares its record's)", n, err, len(nameSearchPeople))
		}
	})
}

// checkNameSearches runs nameSearchCases on s's bookings and patients.
func checkNameSearches(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	for _, tt := range nameSearchCases {
		items, _, err := s.ListBookings(ctx, store.BookingFilter{Search: booking.ParseSearch(tt.q), Limit: 50})
		if err != nil {
			t.Fatalf("bookings for %q: %v", tt.q, err)
		}
		var got []string
		for _, it := range items {
			got = append(got, it.Booking.Patient.FirstName+" "+it.Booking.Patient.LastName)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("bookings for %q: got %q, want %q", tt.q, got, tt.want)
		}
		recs, _, err := s.ListPatients(ctx, tt.q, "", 50)
		if err != nil {
			t.Fatalf("patients for %q: %v", tt.q, err)
		}
		got = got[:0]
		for _, r := range recs {
			got = append(got, r.Details.FirstName+" "+r.Details.LastName)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("patients for %q: got %q, want %q", tt.q, got, tt.want)
		}
	}
}
