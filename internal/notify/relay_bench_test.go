package notify

import (
	"context"
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

// BenchmarkCreateBookingMessages measures what patient messages add to a
// booking: bookings alone, then each followed by the relay's transaction
// (the worst case: one booking at a time), then the relay passing every
// 16 bookings at once (as under load, when bookings arrive together).
func BenchmarkCreateBookingMessages(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			s := storetest.Open(b, backend.URL(b))
			ctx := context.Background()
			now := time.Now()
			p, l, ct := uuid.New(), uuid.New(), uuid.New()
			if err := s.CreateProvider(ctx, booking.Provider{ID: p, Name: "Dr. Reyes", Active: true, CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
			if err := s.CreateLocation(ctx, booking.Location{ID: l, Name: "Main", Timezone: "America/Los_Angeles", Active: true, CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
			if err := s.CreateConsultationType(ctx, booking.ConsultationType{ID: ct, Name: "New patient", DurationMinutes: 45, RequiresConfirmation: true, Active: true, CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
			sl := booking.Slot{ID: uuid.New(), ProviderID: p, LocationID: l, ConsultationTypeID: ct, StartAt: now.Add(100 * time.Hour).UTC(),
				EndAt: now.Add(101 * time.Hour).UTC(), Capacity: 1000000, Status: booking.SlotOpen, CreatedAt: now}
			if err := s.CreateSlot(ctx, sl); err != nil {
				b.Fatal(err)
			}
			mailer, _ := NewMailer(config.SMTP{Host: "127.0.0.1", Port: 1}, "clinic@example.com")
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			n := New(Config{ClinicName: "Clinic", PublicBaseURL: "http://clinic.test", ReminderBefore: 24 * time.Hour, Email: mailer,
				SMS: NewSMSSender(config.Twilio{APIURL: "http://127.0.0.1:1"}), Log: log}, s)
			ws := delivery.NewWorkers(time.Hour, log, nil)
			n.Register(ws)
			q, err := delivery.New(delivery.Config{DB: s.QueueDB(), Postgres: s.Dialect() == store.Postgres, Workers: ws, Log: log})
			if err != nil {
				b.Fatal(err)
			}
			n.Attach(q)
			relay := func() {
				if err := n.CatchUp(ctx); err != nil {
					b.Fatal(err)
				}
			}
			relay() // the cursor starts after the setup
			req := patientRequest(b, sl.ID, true, true, now)
			draft := func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
				bk, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, time.Now())
				return bk, ev, err
			}
			for _, mode := range []struct {
				name  string
				every int // relay after so many bookings; 0: never
			}{{"messages off", 0}, {"relay each", 1}, {"relay per 16", 16}} {
				b.Run(mode.name, func(b *testing.B) {
					relay() // what the last run left, outside the timing
					i := 0
					for b.Loop() {
						if _, err := s.CreateBooking(ctx, sl.ID, draft, nil); err != nil {
							b.Fatal(err)
						}
						if i++; mode.every > 0 && i%mode.every == 0 {
							relay()
						}
					}
				})
			}
		})
	}
}
