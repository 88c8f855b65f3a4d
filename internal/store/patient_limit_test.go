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

// sourcedDraft drafts a booking from source for the patient with this phone
// and email.
func sourcedDraft(t *testing.T, slot uuid.UUID, source booking.Source, phone, email string) store.Draft {
	t.Helper()
	sev, yes, reason := 7, true, "lower back spasms"
	req, err := booking.ParseRequest(booking.RequestInput{
		SlotID:  slot.String(),
		Patient: booking.PatientInput{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: phone, Email: email},
		Intake:  booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return func(info booking.SlotInfo) (booking.Booking, booking.Event, error) {
		status := booking.InitialStatus(source, info.Type.RequiresConfirmation)
		actor := booking.Actor{Type: booking.ActorPatient}
		if source != booking.SourceWeb {
			actor = booking.StaffActor(uuid.New())
		}
		b, ev, _, err := booking.NewBooking(req, source, status, actor, time.Now())
		return b, ev, err
	}
}

// Many online bookings for one patient at once, each in its own slot, never
// take more than MAX_LIVE_PER_PATIENT: the count is made under the
// patient's lock in the booking's transaction.
func TestLivePerPatientUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		slot := catalogue(t, s)
		const n, limit = 24, 3
		slots := make([]booking.Slot, n)
		for i := range slots {
			slots[i] = slot(1, booking.SlotOpen)
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The same person, spelling the email in other cases.
				email := "ana@example.com"
				if i%2 == 1 {
					email = "Ana@Example.COM"
				}
				_, errs[i] = s.CreateBooking(context.Background(), slots[i].ID,
					sourcedDraft(t, slots[i].ID, booking.SourceWeb, "+14245550123", email), nil, store.LivePerPatient(limit))
			}()
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, err := range errs {
			var e *booking.Error
			switch {
			case err == nil:
				ok++
			case errors.Is(err, booking.ErrPatientLimitReached) && errors.As(err, &e) && e.Limit != nil && *e.Limit == limit:
				refused++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != limit || refused != n-limit {
			t.Errorf("got %d created and %d refused, want %d and %d", ok, refused, limit, n-limit)
		}
		booked := 0
		for _, sl := range slots {
			booked += bookedIn(t, s, sl.ID)
		}
		if booked != limit {
			t.Errorf("places taken: got %d, want %d (a refused booking must take none)", booked, limit)
		}
	})
}

// The limit counts by email and by phone, each: concurrent bookings that
// share only the phone, or only the email, are each held to the limit.
func TestLivePerPatientByEmailAndByPhoneEach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		slot := catalogue(t, s)
		const n, limit = 30, 2
		var wg sync.WaitGroup
		slots := make([]booking.Slot, n)
		for i := range slots {
			slots[i] = slot(1, booking.SlotOpen)
		}
		created := make([]bool, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				phone, email := "+14245550123", "ana@example.com"
				switch i % 3 {
				case 1: // same phone, another email
					email = fmt.Sprintf("other%d@example.com", i)
				case 2: // same email, another phone
					phone = fmt.Sprintf("+1424555%04d", 1000+i)
				}
				_, err := s.CreateBooking(context.Background(), slots[i].ID,
					sourcedDraft(t, slots[i].ID, booking.SourceWeb, phone, email), nil, store.LivePerPatient(limit))
				if err != nil && !errors.Is(err, booking.ErrPatientLimitReached) {
					t.Errorf("booking %d: %v", i, err)
				}
				created[i] = err == nil
			}()
		}
		wg.Wait()
		byPhone, byEmail := 0, 0
		for i, ok := range created {
			if !ok {
				continue
			}
			if i%3 != 2 {
				byPhone++
			}
			if i%3 != 1 {
				byEmail++
			}
		}
		if byPhone > limit || byEmail > limit || byPhone+byEmail == 0 {
			t.Errorf("created with the phone %d, with the email %d; want each 1 to %d", byPhone, byEmail, limit)
		}
	})
}

// Staff may book a patient at the limit, and their bookings do not count;
// a cancelled online booking no longer counts; a limit of 0 is none.
func TestLivePerPatientCountsLiveOnlineBookingsOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		book := func(source booking.Source, limit int) (booking.Booking, error) {
			sl := slot(1, booking.SlotOpen)
			res, err := s.CreateBooking(ctx, sl.ID, sourcedDraft(t, sl.ID, source, "+14245550123", "ana@example.com"), nil, store.LivePerPatient(limit))
			return res.Booking, err
		}
		var first booking.Booking
		for i := range 2 {
			b, err := book(booking.SourceWeb, 2)
			if err != nil {
				t.Fatalf("online booking %d: %v", i+1, err)
			}
			if i == 0 {
				first = b
			}
		}
		if _, err := book(booking.SourceWeb, 2); !errors.Is(err, booking.ErrPatientLimitReached) {
			t.Fatalf("third online booking: got %v, want patient_limit_reached", err)
		}
		for _, src := range []booking.Source{booking.SourcePhone, booking.SourceStaff} {
			if _, err := book(src, 2); err != nil {
				t.Errorf("%s booking for a patient at the limit: got %v, want it made", src, err)
			}
		}
		if _, err := book(booking.SourceWeb, 0); err != nil {
			t.Errorf("online booking with no limit: got %v, want it made", err)
		}
		// Three live online bookings now; a limit of 3 refuses, and
		// cancelling one makes room.
		if _, err := book(booking.SourceWeb, 3); !errors.Is(err, booking.ErrPatientLimitReached) {
			t.Fatalf("fourth online booking: got %v, want patient_limit_reached", err)
		}
		if _, _, err := s.UpdateBooking(ctx, first.ID, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
			ev, err := b.Apply(booking.ActionCancel, booking.Actor{Type: booking.ActorPatient}, "", time.Now())
			return []booking.Event{ev}, err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := book(booking.SourceWeb, 3); err != nil {
			t.Errorf("online booking after a cancellation: got %v, want it made", err)
		}
	})
}
