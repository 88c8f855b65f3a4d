package expiry_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/expiry"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

type call struct{ createdBefore, now time.Time }

type fakeStore struct {
	mu      sync.Mutex
	expires []call
	purges  []time.Time
	fail    error
}

func (f *fakeStore) ExpirePending(_ context.Context, createdBefore, now time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expires = append(f.expires, call{createdBefore, now})
	return 1, f.fail
}

func (f *fakeStore) PurgeIdempotencyKeys(_ context.Context, before time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.purges = append(f.purges, before)
	return 0, nil
}

func (f *fakeStore) runs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.expires)
}

func TestRunOnce(t *testing.T) {
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	f := &fakeStore{}
	if err := expiry.RunOnce(context.Background(), f, expiry.Config{PendingExpiry: 2 * time.Hour, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	if len(f.expires) != 1 || !f.expires[0].createdBefore.Equal(now.Add(-2*time.Hour)) || !f.expires[0].now.Equal(now) {
		t.Errorf("expire calls: %+v", f.expires)
	}
	if len(f.purges) != 1 || !f.purges[0].Equal(now.Add(-store.IdempotencyTTL)) {
		t.Errorf("purge calls: %+v", f.purges)
	}
	// Expiry off: keys are still purged.
	off := &fakeStore{}
	if err := expiry.RunOnce(context.Background(), off, expiry.Config{}); err != nil || len(off.expires) != 0 || len(off.purges) != 1 {
		t.Errorf("expiry off: %d expire calls, %d purges, %v", len(off.expires), len(off.purges), err)
	}
	failing := &fakeStore{fail: errors.New("database down")}
	if err := expiry.RunOnce(context.Background(), failing, expiry.Config{PendingExpiry: time.Hour}); err == nil {
		t.Error("a failing store: got no error")
	}
}

func TestStartRunsUntilStopped(t *testing.T) {
	f := &fakeStore{fail: errors.New("keeps going after errors")}
	stop := expiry.Start(context.Background(), f, expiry.Config{PendingExpiry: time.Hour, Interval: 5 * time.Millisecond})
	deadline := time.Now().Add(5 * time.Second)
	for f.runs() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	stop()
	n := f.runs()
	if n < 3 {
		t.Fatalf("runs: got %d, want at least 3", n)
	}
	time.Sleep(20 * time.Millisecond)
	if f.runs() != n {
		t.Errorf("the job ran after stop")
	}
	stop() // a second stop is harmless

	// Ending the context stops it too.
	ctx, cancel := context.WithCancel(context.Background())
	stop = expiry.Start(ctx, &fakeStore{}, expiry.Config{Interval: time.Hour})
	cancel()
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the job did not stop with its context")
	}
}

// TestTwoInstancesExpireOnce runs the job of two "instances" on one
// database at once: each old pending request expires exactly once and its
// place is freed once.
func TestTwoInstancesExpireOnce(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			one, two := storetest.Open(t, url), storetest.Open(t, url)
			ctx := context.Background()
			now := time.Now()
			p, l, ct := uuid.New(), uuid.New(), uuid.New()
			must(t, one.CreateProvider(ctx, booking.Provider{ID: p, Name: "Dr. Reyes", Active: true, CreatedAt: now}))
			must(t, one.CreateLocation(ctx, booking.Location{ID: l, Name: "Main", Timezone: "UTC", Active: true, CreatedAt: now}))
			must(t, one.CreateConsultationType(ctx, booking.ConsultationType{ID: ct, Name: "Consult", DurationMinutes: 30, RequiresConfirmation: true, Active: true, CreatedAt: now}))
			sev, no, yes, reason := 3, false, true, "back pain"
			var slots, bookings []uuid.UUID
			for i := range 5 {
				start := now.Add(48 * time.Hour).Truncate(time.Hour).Add(time.Duration(i) * time.Hour).UTC()
				sl := booking.Slot{ID: uuid.New(), ProviderID: p, LocationID: l, ConsultationTypeID: ct, StartAt: start, EndAt: start.Add(30 * time.Minute), Capacity: 1, Status: booking.SlotOpen, CreatedAt: now}
				must(t, one.CreateSlot(ctx, sl))
				req, err := booking.ParseRequest(booking.RequestInput{
					SlotID:  sl.ID.String(),
					Patient: booking.PatientInput{FirstName: "A", LastName: "B", DateOfBirth: "1970-01-01", Phone: "+14245550123"},
					Intake:  booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &sev, SpasmFrequency: "rarely", RecentPhysicalActivity: &no, Reason: &reason},
					Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes},
				}, now)
				if err != nil {
					t.Fatal(err)
				}
				res, err := one.CreateBooking(ctx, sl.ID, func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
					b, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, now)
					return b, ev, err
				}, nil)
				must(t, err)
				slots, bookings = append(slots, sl.ID), append(bookings, res.Booking.ID)
			}
			cfg := expiry.Config{PendingExpiry: time.Minute, Now: func() time.Time { return now.Add(time.Hour) }}
			var wg sync.WaitGroup
			for _, st := range []*store.Store{one, two, one, two} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := expiry.RunOnce(ctx, st, cfg); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			for i, id := range bookings {
				sl, err := one.Slot(ctx, slots[i])
				must(t, err)
				events, err := one.BookingEvents(ctx, id)
				must(t, err)
				expired := 0
				for _, e := range events {
					if e.Type == booking.EventExpired {
						expired++
					}
				}
				if sl.Booked != 0 || expired != 1 {
					t.Errorf("booking %d: slot booked %d, %d expired events; want 0 and 1", i, sl.Booked, expired)
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
