package notify

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"sync/atomic"
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
// booking's transaction: the same web request with the hook off and on.
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
			n.SetQueue(q)
			var on atomic.Bool
			s.AddChangeHook(func(ctx context.Context, tx *sql.Tx, c store.BookingChange) error {
				if !on.Load() {
					return nil
				}
				return n.Hook(ctx, tx, c)
			})
			sev, yes, reason := 7, true, "lower back spasms"
			req, err := booking.ParseRequest(booking.RequestInput{
				SlotID:  sl.ID.String(),
				Patient: booking.PatientInput{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: "+14245550123", Email: "ana@example.com"},
				Intake:  booking.IntakeInput{PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
				Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes, ContactByEmail: &yes, ContactBySMS: &yes},
			}, now)
			if err != nil {
				b.Fatal(err)
			}
			draft := func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
				bk, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, time.Now())
				return bk, ev, err
			}
			for _, mode := range []string{"off", "on"} {
				b.Run("messages "+mode, func(b *testing.B) {
					on.Store(mode == "on")
					for b.Loop() {
						if _, err := s.CreateBooking(ctx, sl.ID, draft, nil); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
