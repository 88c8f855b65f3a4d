package notify

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// bookConfirmed makes a confirmed booking, consenting to email, in a new
// slot starting at start.
func bookConfirmed(t *testing.T, s *store.Store, start time.Time) booking.Booking {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	sl := newSlot(t, s, "America/Los_Angeles", start, now)
	req := patientRequest(t, sl.ID, true, false, now)
	res, err := s.CreateBooking(ctx, sl.ID, func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
		b, ev, _, err := booking.NewBooking(req, booking.SourcePhone, booking.StatusConfirmed, booking.Actor{Type: booking.ActorSystem}, now)
		return b, ev, err
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Booking
}

// newSlot makes a provider, a location in zone and a consultation type of
// 45 minutes, and an open slot of theirs for one patient starting at start.
func newSlot(t *testing.T, s *store.Store, zone string, start, now time.Time) booking.Slot {
	t.Helper()
	ctx := context.Background()
	p, l, ct := uuid.New(), uuid.New(), uuid.New()
	if err := s.CreateProvider(ctx, booking.Provider{ID: p, Name: "Dr. Reyes", Active: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLocation(ctx, booking.Location{ID: l, Name: "Main", Timezone: zone, Active: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConsultationType(ctx, booking.ConsultationType{ID: ct, Name: "New patient", DurationMinutes: 45, Active: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	sl := booking.Slot{ID: uuid.New(), ProviderID: p, LocationID: l, ConsultationTypeID: ct, StartAt: start.UTC(),
		EndAt: start.Add(45 * time.Minute).UTC(), Capacity: 1, Status: booking.SlotOpen, CreatedAt: now}
	if err := s.CreateSlot(ctx, sl); err != nil {
		t.Fatal(err)
	}
	return sl
}

// TestReminderSweep: the sweep schedules a confirmed booking's reminder when
// its time comes near, once however often it runs, and none for a booking
// made after its reminder's time.
func TestReminderSweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		before := 72*time.Hour + 10*time.Minute
		early := bookConfirmed(t, s, now.Add(96*time.Hour).Truncate(time.Minute))
		late := bookConfirmed(t, s, now.Add(72*time.Hour).Truncate(time.Minute)) // its reminder was due 10 minutes ago
		mailer, err := NewMailer(config.SMTP{Host: "127.0.0.1", Port: 1, Security: config.STARTTLSOpportunistic}, "clinic@example.com")
		if err != nil {
			t.Fatal(err)
		}
		clock := now
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		n := New(Config{ClinicName: "Clinic", PublicBaseURL: "http://clinic.test", ReminderBefore: before, Email: mailer, Log: log,
			Now: func() time.Time { return clock }}, s)
		ws := delivery.NewWorkers(time.Hour, log, nil)
		n.Register(ws)
		q, err := delivery.New(delivery.Config{DB: s.QueueDB(), Postgres: s.Dialect() == store.Postgres, Workers: ws, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		n.Attach(q)
		scheduled := func() []Message {
			t.Helper()
			ms, _, err := q.List(ctx, delivery.StatusScheduled, Kinds, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []Message
			for _, m := range ms {
				var a Message
				if err := jsonUnmarshal(m.Args, &a); err != nil {
					t.Fatal(err)
				}
				out = append(out, a)
			}
			return out
		}
		sweep := func() {
			t.Helper()
			if err := n.sweepReminders(ctx, delivery.Job[ReminderSweepArgs]{}); err != nil {
				t.Fatal(err)
			}
		}
		sweep() // the late booking's reminder time is in the window: none for it
		if got := scheduled(); len(got) != 0 {
			t.Fatalf("after the first sweep: got %d reminders, want 0 (the late booking was made after its reminder time): %+v", len(got), got)
		}
		earlySlot, err := s.Slot(ctx, early.SlotID)
		if err != nil {
			t.Fatal(err)
		}
		clock = earlySlot.StartAt.Add(-before - time.Minute) // a minute before the early one's reminder is due
		sweep()
		sweep()
		got := scheduled()
		if len(got) != 1 || got[0].BookingID != early.ID || got[0].Template != Reminder || !got[0].SlotStart.Equal(earlySlot.StartAt) {
			t.Fatalf("after two sweeps: got %+v, want one reminder for %s at %s", got, early.ID, earlySlot.StartAt)
		}
		if got[0].BookingID == late.ID {
			t.Errorf("the late booking got a reminder")
		}
	})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// patientRequest is a checked web request for slot from a patient in pain
// (with intake answers, which no message may carry), consenting to the
// channels given.
func patientRequest(tb testing.TB, slot uuid.UUID, byEmail, bySMS bool, now time.Time) booking.Request {
	tb.Helper()
	sev, yes, reason := 7, true, "lower back spasms"
	req, err := booking.ParseRequest(booking.RequestInput{
		SlotID:  slot.String(),
		Patient: booking.PatientInput{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: "+14245550123", Email: "ana@example.com"},
		Intake:  booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes, ContactByEmail: &byEmail, ContactBySMS: &bySMS},
	}, now)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}
