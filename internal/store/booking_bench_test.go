package store_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// BenchmarkCreateBooking measures the booking transaction (CreateBooking:
// take a place with the conditional update, read the slot's catalogue,
// insert the booking and its event), with and without an Idempotency-Key,
// by one caller and by several at once (the SQLite writer queue and group
// commit at work; on PostgreSQL, row locks). Each booking takes a place of
// its own in slots of 100 places, spread over a year of generated slots.
// The patient is the same returning one, except in new_patient, where each
// booking brings a new person (a patient record made with the booking, as
// the load tool's bookings do), with an Idempotency-Key.
//
//	go test ./internal/store -run '^$' -bench CreateBooking -benchtime 2000x
func BenchmarkCreateBooking(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := storetest.Open(b, be.URL(b))
			ctx := context.Background()
			_, slots := benchSlots(b, s, 365)
			sev, yes, reason := 7, true, "lower back spasms"
			req, err := booking.ParseRequest(booking.RequestInput{
				SlotID:  slots[0].String(),
				Patient: booking.PatientInput{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: "+14245550123", Email: "ana@example.com"},
				Intake:  booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
				Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes},
			}, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			var n atomic.Int64
			book := func(b *testing.B, idem, newPatient bool) {
				i := n.Add(1)
				slot := slots[int(i)%len(slots)]
				r := req
				r.SlotID = slot
				if newPatient {
					r.Patient.LastName = "Lopez" + strconv.FormatInt(i, 10)
					r.Patient.Phone = fmt.Sprintf("+1424%07d", i)
					r.Patient.Email = ""
				}
				draft := func(info booking.SlotInfo) (booking.Booking, booking.Event, error) {
					status := booking.InitialStatus(booking.SourceWeb, info.Type.RequiresConfirmation)
					bk, ev, _, err := booking.NewBooking(r, booking.SourceWeb, status, booking.Actor{Type: booking.ActorPatient}, time.Now())
					return bk, ev, err
				}
				var key *store.Idempotency
				if idem {
					key = &store.Idempotency{
						Scope: "POST /v1/booking-requests", Key: "bench-" + strconv.FormatInt(i, 10), Request: []byte(`{"slot_id":"` + slot.String() + `"}`),
						Response: func(bk booking.Booking, _ booking.Slot) (store.Response, error) {
							return store.Response{Status: 201, Body: []byte(`{"id":"` + bk.ID.String() + `"}`)}, nil
						},
					}
				}
				if _, err := s.CreateBooking(ctx, slot, draft, key); err != nil {
					b.Error(err)
				}
			}
			for _, v := range []struct {
				name            string
				idem, newPerson bool
			}{{"idempotency=false", false, false}, {"idempotency=true", true, false}, {"new_patient", true, true}} {
				for _, par := range []int{1, 8} {
					b.Run(fmt.Sprintf("%s/callers=%d", v.name, par), func(b *testing.B) {
						b.ReportAllocs()
						if par == 1 {
							for b.Loop() {
								book(b, v.idem, v.newPerson)
							}
							return
						}
						b.SetParallelism(par)
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								book(b, v.idem, v.newPerson)
							}
						})
					})
				}
			}
		})
	}
}

// benchSlots makes a schedule of slots of the most places for the days
// days from tomorrow, and returns tomorrow and the slots.
func benchSlots(b *testing.B, s *store.Store, days int) (booking.Date, []uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	f := newFixture(b, s, "America/Los_Angeles")
	from := booking.DateOf(time.Now().AddDate(0, 0, 1), time.UTC)
	sc := f.schedule(from, from.AddDays(days))
	sc.Capacity = booking.MaxCapacity
	if err := s.CreateSchedule(ctx, sc); err != nil {
		b.Fatal(err)
	}
	if _, err := s.GenerateSlots(ctx, sc.ID, from, from.AddDays(days), time.Now()); err != nil {
		b.Fatal(err)
	}
	var slots []uuid.UUID
	for cur := ""; ; {
		page, next, err := s.ListSlots(ctx, store.SlotFilter{}, cur, 200)
		if err != nil {
			b.Fatal(err)
		}
		for _, sl := range page {
			slots = append(slots, sl.ID)
		}
		if cur = next; cur == "" {
			return from, slots
		}
	}
}
