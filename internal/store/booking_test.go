package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// catalogue makes a provider, a location and a consultation type that
// requires confirmation, and returns a function that adds slots to them.
func catalogue(t testing.TB, s *store.Store) func(capacity int, status booking.SlotStatus) booking.Slot {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	p, l, ct := uuid.New(), uuid.New(), uuid.New()
	if err := s.CreateProvider(ctx, booking.Provider{ID: p, Name: "Dr. Reyes", Active: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLocation(ctx, booking.Location{ID: l, Name: "Main", Timezone: "America/Los_Angeles", Active: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConsultationType(ctx, booking.ConsultationType{ID: ct, Name: "New patient", DurationMinutes: 45, RequiresConfirmation: true, Active: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	n := 0
	return func(capacity int, status booking.SlotStatus) booking.Slot {
		t.Helper()
		n++
		start := now.Add(72 * time.Hour).Truncate(time.Hour).Add(time.Duration(n) * time.Hour).UTC()
		sl := booking.Slot{ID: uuid.New(), ProviderID: p, LocationID: l, ConsultationTypeID: ct, StartAt: start,
			EndAt: start.Add(45 * time.Minute), Capacity: capacity, Status: status, CreatedAt: now}
		if err := s.CreateSlot(ctx, sl); err != nil {
			t.Fatal(err)
		}
		return sl
	}
}

func validRequest(t *testing.T, slot uuid.UUID) booking.Request {
	t.Helper()
	sev, yes, reason := 7, true, "lower back spasms"
	req, err := booking.ParseRequest(booking.RequestInput{
		SlotID:  slot.String(),
		Patient: booking.PatientInput{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: "+14245550123", Email: "ana@example.com"},
		Intake:  booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// webDraft drafts a web request, recording its manage token in *token.
func webDraft(t *testing.T, slot uuid.UUID, token *string) store.Draft {
	req := validRequest(t, slot)
	return func(info booking.SlotInfo) (booking.Booking, booking.Event, error) {
		status := booking.InitialStatus(booking.SourceWeb, info.Type.RequiresConfirmation)
		b, ev, tok, err := booking.NewBooking(req, booking.SourceWeb, status, booking.Actor{Type: booking.ActorPatient}, time.Now())
		if token != nil {
			*token = tok
		}
		return b, ev, err
	}
}

func bookedIn(t *testing.T, s *store.Store, id uuid.UUID) int {
	t.Helper()
	sl, err := s.Slot(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return sl.Booked
}

func TestCreateBookingTakesAPlaceOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		one := slot(1, booking.SlotOpen)
		res, err := s.CreateBooking(ctx, one.ID, webDraft(t, one.ID, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Booking.Status != booking.StatusPending || res.Slot.Booked != 1 || res.Booking.Version != 1 {
			t.Errorf("created: status %s, slot booked %d, version %d", res.Booking.Status, res.Slot.Booked, res.Booking.Version)
		}
		got, gotSlot, err := s.Booking(ctx, res.Booking.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The intake holds pointers (answers not asked on the phone):
		// compared by value, the rest as printed.
		g, w := got, res.Booking
		g.Intake, w.Intake = booking.Intake{}, booking.Intake{}
		if fmt.Sprint(g) != fmt.Sprint(w) || !reflect.DeepEqual(got.Intake, res.Booking.Intake) || gotSlot.ID != one.ID {
			t.Errorf("read back:\n got %+v\nwant %+v", got, res.Booking)
		}
		if _, err := s.CreateBooking(ctx, one.ID, webDraft(t, one.ID, nil), nil); !errors.Is(err, booking.ErrSlotUnavailable) {
			t.Errorf("full slot: got %v, want ErrSlotUnavailable", err)
		}
		blocked := slot(2, booking.SlotBlocked)
		if _, err := s.CreateBooking(ctx, blocked.ID, webDraft(t, blocked.ID, nil), nil); !errors.Is(err, booking.ErrSlotUnavailable) {
			t.Errorf("blocked slot: got %v, want ErrSlotUnavailable", err)
		}
		var ve *booking.ValidationError
		if _, err := s.CreateBooking(ctx, uuid.New(), webDraft(t, uuid.New(), nil), nil); !errors.As(err, &ve) || ve.Fields[0].Field != "slot_id" {
			t.Errorf("unknown slot: got %v, want a validation error on slot_id", err)
		}
		// A draft that refuses undoes the place it was given.
		two := slot(2, booking.SlotOpen)
		refuse := func(info booking.SlotInfo) (booking.Booking, booking.Event, error) {
			if info.Slot.Booked != 0 || !info.CatalogActive() {
				t.Errorf("draft sees %+v, want the slot before this booking", info)
			}
			return booking.Booking{}, booking.Event{}, booking.ErrSlotUnavailable
		}
		if _, err := s.CreateBooking(ctx, two.ID, refuse, nil); !errors.Is(err, booking.ErrSlotUnavailable) {
			t.Errorf("refusing draft: got %v", err)
		}
		if n := bookedIn(t, s, two.ID); n != 0 {
			t.Errorf("refused draft left booked %d", n)
		}
	})
}

func TestConcurrentCreatesNeverOverbook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		slot := catalogue(t, s)(3, booking.SlotOpen)
		const n = 30
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.CreateBooking(context.Background(), slot.ID, webDraft(t, slot.ID, nil), nil)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, booking.ErrSlotUnavailable):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 3 || bookedIn(t, s, slot.ID) != 3 {
			t.Errorf("created %d, booked %d; want 3 and 3", ok, bookedIn(t, s, slot.ID))
		}
	})
}

func TestUpdateBookingVersionsAndReleases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sl := catalogue(t, s)(1, booking.SlotOpen)
		res, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		id := res.Booking.ID
		staff := booking.StaffActor(uuid.New())
		stale := 7
		called := false
		_, _, err = s.UpdateBooking(ctx, id, &stale, func(*booking.Booking, booking.Slot) ([]booking.Event, error) {
			called = true
			return nil, nil
		})
		if !errors.Is(err, booking.ErrVersionMismatch) || called {
			t.Errorf("stale version: got %v (fn called %v), want ErrVersionMismatch before fn", err, called)
		}
		// No events: nothing written.
		b, _, err := s.UpdateBooking(ctx, id, nil, func(*booking.Booking, booking.Slot) ([]booking.Event, error) { return nil, nil })
		if err != nil || b.Version != 1 {
			t.Errorf("no-op: version %d, err %v", b.Version, err)
		}
		// An error from fn writes nothing either.
		_, _, err = s.UpdateBooking(ctx, id, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
			ev, _ := b.Apply(booking.ActionCancel, staff, "", time.Now())
			return []booking.Event{ev}, booking.ErrConflict
		})
		if !errors.Is(err, booking.ErrConflict) || bookedIn(t, s, sl.ID) != 1 {
			t.Errorf("failing fn: err %v, booked %d", err, bookedIn(t, s, sl.ID))
		}
		one := 1
		b, slot, err := s.UpdateBooking(ctx, id, &one, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
			ev, err := b.Apply(booking.ActionCancel, staff, "patient called", time.Now())
			return []booking.Event{ev}, err
		})
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != booking.StatusCancelled || b.Version != 2 || slot.Booked != 0 || b.CancellationReason != "patient called" {
			t.Errorf("cancelled: %s v%d booked %d reason %q", b.Status, b.Version, slot.Booked, b.CancellationReason)
		}
		if _, _, err := s.UpdateBooking(ctx, uuid.New(), nil, nil); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown booking: got %v", err)
		}
		events, err := s.BookingEvents(ctx, id)
		if err != nil || len(events) != 2 || events[1].Type != booking.EventCancelled || *events[1].Actor.StaffID != *staff.StaffID {
			t.Errorf("events: %+v %v", events, err)
		}
	})
}

func TestRescheduleIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		a, full, free := slot(1, booking.SlotOpen), slot(1, booking.SlotOpen), slot(2, booking.SlotOpen)
		res, err := s.CreateBooking(ctx, a.ID, webDraft(t, a.ID, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateBooking(ctx, full.ID, webDraft(t, full.ID, nil), nil); err != nil {
			t.Fatal(err)
		}
		move := func(to uuid.UUID) error {
			_, _, err := s.RescheduleBooking(ctx, res.Booking.ID, to, func(b *booking.Booking, from booking.Slot, target booking.SlotInfo) ([]booking.Event, error) {
				if from.ID != a.ID && from.ID != free.ID {
					t.Errorf("from: got %s", from.ID)
				}
				ev, err := b.Reschedule(to, booking.Actor{Type: booking.ActorPatient}, time.Now())
				return []booking.Event{ev}, err
			})
			return err
		}
		if err := move(full.ID); !errors.Is(err, booking.ErrSlotUnavailable) {
			t.Errorf("into a full slot: got %v", err)
		}
		b, _, _ := s.Booking(ctx, res.Booking.ID)
		if b.SlotID != a.ID || b.Version != 1 || bookedIn(t, s, a.ID) != 1 || bookedIn(t, s, full.ID) != 1 {
			t.Errorf("a refused move changed something: slot %s v%d", b.SlotID, b.Version)
		}
		if err := move(free.ID); err != nil {
			t.Fatal(err)
		}
		b, sl, _ := s.Booking(ctx, res.Booking.ID)
		if b.SlotID != free.ID || sl.ID != free.ID || bookedIn(t, s, a.ID) != 0 || bookedIn(t, s, free.ID) != 1 {
			t.Errorf("after the move: slot %s, booked a=%d free=%d", b.SlotID, bookedIn(t, s, a.ID), bookedIn(t, s, free.ID))
		}
		// The agenda sorts by the new start.
		list, _, err := s.ListBookings(ctx, store.BookingFilter{Sort: store.SortStartAt})
		if err != nil || len(list) != 2 || list[1].Booking.ID != b.ID || list[1].Slot.ID != free.ID {
			t.Errorf("agenda after the move: %v %v", list, err)
		}
	})
}

func TestExpirePending(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		var ids []uuid.UUID
		var slots []uuid.UUID
		for range 3 {
			sl := slot(1, booking.SlotOpen)
			res, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			ids, slots = append(ids, res.Booking.ID), append(slots, sl.ID)
		}
		// One is confirmed meanwhile and must stay.
		_, _, err := s.UpdateBooking(ctx, ids[0], nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
			ev, err := b.Apply(booking.ActionConfirm, booking.StaffActor(uuid.New()), "", time.Now())
			return []booking.Event{ev}, err
		})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if n, err := s.ExpirePending(ctx, now.Add(-time.Hour), now); err != nil || n != 0 {
			t.Errorf("nothing old enough: expired %d, %v", n, err)
		}
		if n, err := s.ExpirePending(ctx, now.Add(time.Second), now); err != nil || n != 2 {
			t.Errorf("expired %d, %v; want 2", n, err)
		}
		if n, err := s.ExpirePending(ctx, now.Add(time.Second), now); err != nil || n != 0 {
			t.Errorf("second run expired %d, %v; want 0", n, err)
		}
		wantBooked := []int{1, 0, 0}
		for i, id := range ids {
			if got := bookedIn(t, s, slots[i]); got != wantBooked[i] {
				t.Errorf("slot %d booked %d, want %d", i, got, wantBooked[i])
			}
			events, _ := s.BookingEvents(ctx, id)
			last := events[len(events)-1]
			if i > 0 && (last.Type != booking.EventExpired || last.Actor.Type != booking.ActorSystem) {
				t.Errorf("booking %d last event %s by %s", i, last.Type, last.Actor.Type)
			}
		}
	})
}

func TestBookingByReferenceNeedsTheToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sl := catalogue(t, s)(1, booking.SlotOpen)
		var token string
		res, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, &token), nil)
		if err != nil {
			t.Fatal(err)
		}
		ref := res.Booking.Reference
		if b, _, err := s.BookingByReference(ctx, ref, token); err != nil || b.ID != res.Booking.ID {
			t.Errorf("right token: %v", err)
		}
		for name, args := range map[string][2]string{
			"wrong token":       {ref, token + "x"},
			"empty token":       {ref, ""},
			"unknown reference": {"ZZZZ-ZZZZ", token},
			"malformed":         {"'; DROP TABLE bookings; --", token},
		} {
			if _, _, err := s.BookingByReference(ctx, args[0], args[1]); !errors.Is(err, booking.ErrNotFound) {
				t.Errorf("%s: got %v, want ErrNotFound", name, err)
			}
		}
	})
}

func TestIdempotentCreate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sl := catalogue(t, s)(5, booking.SlotOpen)
		idem := func(request string) *store.Idempotency {
			return &store.Idempotency{
				Scope: "test", Key: "key-1", Request: []byte(request),
				Response: func(b booking.Booking, slot booking.Slot) (store.Response, error) {
					return store.Response{Status: 201, Body: []byte(`{"id":"` + b.ID.String() + `","secret":"token"}`),
						Header: map[string]string{"Location": "/v1/x/" + b.ID.String()}}, nil
				},
			}
		}
		first, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), idem(`{"a":1}`))
		if err != nil || first.Replay != nil {
			t.Fatalf("first: %v %v", first.Replay, err)
		}
		again, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), idem(`{"a":1}`))
		if err != nil || again.Replay == nil || again.Replay.Status != 201 ||
			string(again.Replay.Body) != `{"id":"`+first.Booking.ID.String()+`","secret":"token"}` ||
			again.Replay.Header["Location"] != "/v1/x/"+first.Booking.ID.String() {
			t.Fatalf("replay: %+v %v", again.Replay, err)
		}
		if _, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), idem(`{"a":2}`)); !errors.Is(err, booking.ErrIdempotencyKeyReused) {
			t.Errorf("other request: got %v, want ErrIdempotencyKeyReused", err)
		}
		other := idem(`{"a":1}`)
		other.Scope = "another scope"
		if res, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), other); err != nil || res.Replay != nil {
			t.Errorf("same key in another scope: %+v %v, want a new booking", res.Replay, err)
		}
		if n := bookedIn(t, s, sl.ID); n != 2 {
			t.Errorf("booked %d, want 2", n)
		}
		// Past its time to live a key is forgotten.
		if n, err := s.PurgeIdempotencyKeys(ctx, time.Now().Add(time.Minute)); err != nil || n != 2 {
			t.Errorf("purge: %d %v, want 2", n, err)
		}
		if res, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), idem(`{"a":2}`)); err != nil || res.Replay != nil {
			t.Errorf("after purge: %+v %v, want a new booking", res.Replay, err)
		}
	})
}
