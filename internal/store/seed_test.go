package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// References are random, so a large seed can draw one twice (the load
// tool's 50,000 bookings did, about once in 500 seeds): SeedBookings gives
// such a booking another reference, as CreateBooking does, where it failed
// the whole seed on the unique index.
func TestSeedBookingsReferenceClash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		sl := f.slot(time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC), 30*time.Minute)
		sl.Capacity = 10
		if err := s.CreateSlot(ctx, sl); err != nil {
			t.Fatalf("create slot: %v", err)
		}
		created := time.Date(2029, 12, 1, 10, 0, 0, 0, time.UTC)
		seed := func(n int) []store.SeedBooking {
			t.Helper()
			out := make([]store.SeedBooking, n)
			for i := range out {
				req, err := booking.ParseRequest(requestInput(sl.ID, booking.PatientInput{
					FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1970-01-02", Phone: "+14245550100", Email: "ana.lopez@example.com",
				}), created)
				if err != nil {
					t.Fatalf("parse request: %v", err)
				}
				b, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusConfirmed, booking.Actor{Type: booking.ActorPatient}, created)
				if err != nil {
					t.Fatalf("new booking: %v", err)
				}
				out[i] = store.SeedBooking{Booking: b, Events: []booking.Event{ev}}
			}
			return out
		}
		first := seed(1)
		if err := s.SeedBookings(ctx, first); err != nil {
			t.Fatalf("seed the first booking: %v", err)
		}
		stored := first[0].Booking.Reference
		// Three more: two share a reference, and one has the stored booking's.
		bs := seed(3)
		bs[1].Booking.Reference = bs[0].Booking.Reference
		bs[2].Booking.Reference = stored
		if err := s.SeedBookings(ctx, bs); err != nil {
			t.Fatalf("seed bookings whose references clash: %v", err)
		}
		refs := map[string]bool{stored: true}
		for _, sb := range append(first, bs...) {
			got, _, err := s.Booking(ctx, sb.Booking.ID)
			if err != nil {
				t.Fatalf("booking %s: %v", sb.Booking.ID, err)
			}
			if got.Reference != sb.Booking.Reference {
				t.Errorf("booking %s: stored reference %s, SeedBookings gave back %s", sb.Booking.ID, got.Reference, sb.Booking.Reference)
			}
			refs[got.Reference] = true
			// What the patient booked is recorded as CreateBooking records
			// it: the zone read back for a visit's day, among others.
			if got.Snapshot.Timezone != "UTC" || got.Snapshot.ProviderName == "" || got.Snapshot.ConsultationTypeName == "" {
				t.Errorf("booking %s: snapshot %+v, want the slot's names and zone UTC", sb.Booking.ID, got.Snapshot)
			}
			// The search finds the booking by the reference it has.
			page, _, err := s.ListBookings(ctx, store.BookingFilter{Search: booking.ParseSearch(got.Reference)})
			if err != nil {
				t.Fatalf("search %s: %v", got.Reference, err)
			}
			if len(page) != 1 || page[0].Booking.ID != got.ID {
				t.Errorf("search %s: %d bookings, want booking %s alone", got.Reference, len(page), got.ID)
			}
		}
		if len(refs) != 4 {
			t.Errorf("%d distinct references among 4 bookings", len(refs))
		}
		if bs[0].Booking.Reference == bs[1].Booking.Reference || bs[2].Booking.Reference == stored {
			t.Errorf("a clashing reference was kept: %s %s %s (stored %s)", bs[0].Booking.Reference, bs[1].Booking.Reference, bs[2].Booking.Reference, stored)
		}
	})
}

// A Seeder attaches each booking to its patient record across batches as
// booking.MatchesPatient says (the date of birth and the phone or the
// email), and a record a booking older than itself joins is dated back to
// that booking; with the trigram indexes deferred, a search finds the
// seeded bookings once Finish has built them again.
func TestSeederPatients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, "UTC")
		sl := f.slot(time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC), 30*time.Minute)
		sl.Capacity = 10
		if err := s.CreateSlot(ctx, sl); err != nil {
			t.Fatalf("create slot: %v", err)
		}
		day := func(d int) time.Time { return time.Date(2029, 12, d, 10, 0, 0, 0, time.UTC) }
		seed := func(phone, email string, created time.Time) store.SeedBooking {
			t.Helper()
			req, err := booking.ParseRequest(requestInput(sl.ID, booking.PatientInput{
				FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1970-01-02", Phone: phone, Email: email,
			}), created)
			if err != nil {
				t.Fatalf("parse request: %v", err)
			}
			b, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusConfirmed, booking.Actor{Type: booking.ActorPatient}, created)
			if err != nil {
				t.Fatalf("new booking: %v", err)
			}
			return store.SeedBooking{Booking: b, Events: []booking.Event{ev}}
		}
		first := []store.SeedBooking{seed("+14245550100", "ana@example.com", day(10))}
		second := []store.SeedBooking{
			seed("+14245550100", "other@example.com", day(5)), // the phone, and older than the record
			seed("+14245550199", "Ana@Example.com", day(12)),  // the email, normalised
			seed("+14245550177", "new@example.com", day(11)),  // someone else
		}
		sd, err := s.NewSeeder(ctx)
		if err != nil {
			t.Fatalf("new seeder: %v", err)
		}
		if err := sd.DeferIndexes(ctx); err != nil {
			t.Fatalf("defer indexes: %v", err)
		}
		for i, batch := range [][]store.SeedBooking{first, second} {
			if err := sd.Add(ctx, batch); err != nil {
				t.Fatalf("batch %d: %v", i+1, err)
			}
		}
		if err := sd.Finish(ctx); err != nil {
			t.Fatalf("finish: %v", err)
		}
		patientOf := func(sb store.SeedBooking) uuid.UUID {
			t.Helper()
			got, _, err := s.Booking(ctx, sb.Booking.ID)
			if err != nil {
				t.Fatalf("booking: %v", err)
			}
			return got.PatientID
		}
		ana := patientOf(first[0])
		for _, tc := range []struct {
			name      string
			sb        store.SeedBooking
			sameAsAna bool
		}{
			{"same phone", second[0], true},
			{"same email", second[1], true},
			{"someone else", second[2], false},
		} {
			if got := patientOf(tc.sb); (got == ana) != tc.sameAsAna || got == uuid.Nil {
				t.Errorf("%s: patient %s, Ana's %s, want the same: %v", tc.name, got, ana, tc.sameAsAna)
			}
		}
		rec, err := s.Patient(ctx, ana)
		if err != nil {
			t.Fatalf("patient: %v", err)
		}
		if !rec.CreatedAt.Equal(day(5)) {
			t.Errorf("Ana's record created %s, want %s (her oldest booking)", rec.CreatedAt, day(5))
		}
		page, _, err := s.ListBookings(ctx, store.BookingFilter{Search: booking.ParseSearch("0177")})
		if err != nil {
			t.Fatalf("search: %v", err)
		}
		if len(page) != 1 || page[0].Booking.ID != second[2].Booking.ID {
			t.Errorf("search 0177: %d bookings, want the one booked with that phone", len(page))
		}
	})
}
