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

// TestPhoneDigitsInAnyFormat checks that reception finds a booking and its
// patient by a phone number typed as callers read it out (spaces, dashes,
// dots, parentheses, a + prefix), whole or in part, and by the booking's
// reference with or without its dash, and that digits of another number
// find nothing.
func TestPhoneDigitsInAnyFormat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		phones := []string{"+34612345678", "+14245550199", "+447700900123"}
		var refs []string
		for i, phone := range phones {
			sl := slot(1, booking.SlotOpen)
			in := booking.PatientInput{FirstName: "Noa", LastName: fmt.Sprintf("Dialer%c", 'a'+i),
				DateOfBirth: "1980-04-02", Phone: phone, Email: fmt.Sprintf("noa%d@example.com", i)}
			c, err := s.CreateBooking(ctx, sl.ID, draftFor(t, sl.ID, in), nil)
			if err != nil {
				t.Fatal(err)
			}
			refs = append(refs, c.Booking.Reference)
		}
		tests := []struct {
			q    string
			want []string // last names
		}{
			{"+34 612 345 678", []string{"Dialera"}},
			{"+34-612-345-678", []string{"Dialera"}},
			{"612 345 678", []string{"Dialera"}},
			{"(612) 34.56", []string{"Dialera"}},
			{"5678", []string{"Dialera"}},
			{"555 0199", []string{"Dialerb"}},
			{"+1 (424) 555-0199", []string{"Dialerb"}},
			{"7700 900", []string{"Dialerc"}},
			{"9999 9999", nil},
			{refs[1], []string{"Dialerb"}},
			{refs[2][:4] + refs[2][5:], []string{"Dialerc"}},
		}
		for _, tt := range tests {
			items, _, err := s.ListBookings(ctx, store.BookingFilter{Search: booking.ParseSearch(tt.q), Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range items {
				got = append(got, it.Booking.Patient.LastName)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("bookings for %q: got %v, want %v", tt.q, got, tt.want)
			}
			if booking.ParseSearch(tt.q).Reference != "" {
				continue // patients are not searched by reference
			}
			recs, _, err := s.ListPatients(ctx, tt.q, "", 50)
			if err != nil {
				t.Fatal(err)
			}
			got = got[:0]
			for _, r := range recs {
				got = append(got, r.Details.LastName)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("patients for %q: got %v, want %v", tt.q, got, tt.want)
			}
		}
	})
}
