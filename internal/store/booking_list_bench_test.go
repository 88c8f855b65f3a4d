package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// BenchmarkListBookings measures reception's list and search path
// (ListBookings: the filter's checks, the page's ids, the page's rows and
// slots) on 5,000 bookings of 60 last names, one search of each kind the
// load tool sends (a last name, four phone digits, a reference, "first
// last") and the agenda of a week by start. A page is 20 bookings.
//
//	go test ./internal/store -run '^$' -bench ListBookings -benchtime 2000x
func BenchmarkListBookings(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := storetest.Open(b, be.URL(b))
			ctx := context.Background()
			from, slots := benchSlots(b, s, 60)
			rng := rand.New(rand.NewPCG(1, 2))
			var seed []store.SeedBooking
			var last booking.Booking
			sev, yes, reason := 7, true, "lower back spasms"
			now := time.Now()
			for i := range 5000 {
				in := booking.RequestInput{
					SlotID: slots[i%len(slots)].String(),
					Patient: booking.PatientInput{FirstName: fmt.Sprintf("Ana%d", i%40), LastName: fmt.Sprintf("Lastname%c%c", 'a'+i%20, 'a'+i%3),
						DateOfBirth: "1980-04-02", Phone: fmt.Sprintf("+1424%07d", rng.IntN(10_000_000)), Email: fmt.Sprintf("p%d@example.com", i)},
					Intake:  booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
					Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes},
				}
				created := now.Add(-time.Duration(5000-i) * time.Minute)
				req, err := booking.ParseRequest(in, created)
				if err != nil {
					b.Fatal(err)
				}
				bk, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, created)
				if err != nil {
					b.Fatal(err)
				}
				seed = append(seed, store.SeedBooking{Booking: bk, Events: []booking.Event{ev}})
				last = bk
			}
			if err := s.SeedBookings(ctx, seed); err != nil {
				b.Fatal(err)
			}
			last = seed[len(seed)-1].Booking // its reference may have been remade
			week := booking.DayBound(from)
			for _, bc := range []struct {
				name string
				f    store.BookingFilter
			}{
				{"search=last_name", store.BookingFilter{Search: booking.ParseSearch(last.Patient.LastName)}},
				{"search=phone_digits", store.BookingFilter{Search: booking.ParseSearch(last.Patient.Phone[len(last.Patient.Phone)-4:])}},
				{"search=reference", store.BookingFilter{Search: booking.ParseSearch(last.Reference)}},
				{"search=first_last", store.BookingFilter{Search: booking.ParseSearch(last.Patient.FirstName + " " + last.Patient.LastName)}},
				{"agenda=week_by_start", store.BookingFilter{From: week, To: booking.DayBound(from.AddDays(6)), Sort: store.SortStartAt}},
			} {
				b.Run(bc.name, func(b *testing.B) {
					bc.f.Limit = 20
					rows := 0
					for b.Loop() {
						items, _, err := s.ListBookings(ctx, bc.f)
						if err != nil {
							b.Fatal(err)
						}
						rows += len(items)
					}
					b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
				})
			}
		})
	}
}
