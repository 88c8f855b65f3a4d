package notify

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// TestRelayWritesTheMessagesOfEachChange: which messages each booking
// change causes, on which channel, and that only staff's reasons are told.
func TestRelayWritesTheMessagesOfEachChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		mailer, err := NewMailer(config.SMTP{Host: "127.0.0.1", Port: 1}, "clinic@example.com")
		if err != nil {
			t.Fatal(err)
		}
		// Appointments start in 100 hours; a reminder 100h - 1m before is
		// due in a minute: written with the confirmation.
		n := New(Config{ClinicName: "Clinic", PublicBaseURL: "http://clinic.test", ReminderBefore: 100*time.Hour - time.Minute,
			Email: mailer, SMS: NewSMSSender(config.Twilio{APIURL: "http://127.0.0.1:1"}), Log: log}, s)
		ws := delivery.NewWorkers(time.Hour, log, nil)
		n.Register(ws)
		q, err := delivery.New(delivery.Config{DB: s.QueueDB(), Postgres: s.Dialect() == store.Postgres, Workers: ws, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		n.Attach(q)

		now := time.Now()
		l, ct := uuid.New(), uuid.New()
		if err := s.CreateLocation(ctx, booking.Location{ID: l, Name: "Main", Timezone: "America/Los_Angeles", Active: true, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateConsultationType(ctx, booking.ConsultationType{ID: ct, Name: "New patient", DurationMinutes: 45, RequiresConfirmation: true, Active: true, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		nslot := 0
		// book makes a pending web request in a new slot; the slot of
		// soon=true starts in 100 hours (its reminder due in a minute), the
		// others hours later.
		book := func(byEmail, bySMS, soon bool) booking.Booking {
			t.Helper()
			nslot++
			start := now.Add(100 * time.Hour)
			if !soon {
				start = start.Add(time.Duration(nslot) * time.Hour)
			}
			p := uuid.New() // a provider each: the soon slots start together
			if err := s.CreateProvider(ctx, booking.Provider{ID: p, Name: "Dr. Reyes", Active: true, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			sl := booking.Slot{ID: uuid.New(), ProviderID: p, LocationID: l, ConsultationTypeID: ct, StartAt: start.UTC(),
				EndAt: start.Add(45 * time.Minute).UTC(), Capacity: 1, Status: booking.SlotOpen, CreatedAt: now}
			if err := s.CreateSlot(ctx, sl); err != nil {
				t.Fatal(err)
			}
			req := patientRequest(t, sl.ID, byEmail, bySMS, now)
			res, err := s.CreateBooking(ctx, sl.ID, func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
				b, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusPending, booking.Actor{Type: booking.ActorPatient}, now)
				return b, ev, err
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return res.Booking
		}
		apply := func(b booking.Booking, a booking.Action, actor booking.Actor, reason string) {
			t.Helper()
			_, _, err := s.UpdateBooking(ctx, b.ID, nil, func(bk *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
				ev, err := bk.Apply(a, actor, reason, time.Now())
				return []booking.Event{ev}, err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		type written struct {
			kind     string
			template Template
			reason   string
			status   delivery.Status
		}
		messagesOf := func(id uuid.UUID) []written {
			t.Helper()
			var out []written
			for _, st := range []delivery.Status{delivery.StatusPending, delivery.StatusScheduled} {
				ms, _, err := q.List(ctx, st, Kinds, "", 200)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range ms {
					var a Message
					if err := json.Unmarshal(m.Args, &a); err != nil {
						t.Fatal(err)
					}
					if a.BookingID == id {
						out = append(out, written{m.Kind, a.Template, a.Reason, m.Status})
					}
				}
			}
			slices.SortFunc(out, func(x, y written) int {
				if c := cmpString(string(x.template), string(y.template)); c != 0 {
					return c
				}
				return cmpString(x.kind, y.kind)
			})
			return out
		}
		staff := booking.StaffActor(uuid.New())
		patient := booking.Actor{Type: booking.ActorPatient}
		system := booking.Actor{Type: booking.ActorSystem}

		declined := book(true, true, false)
		apply(declined, booking.ActionDecline, staff, "no referral yet")
		cancelled := book(true, true, false)
		apply(cancelled, booking.ActionCancel, patient, "feeling better")
		expired := book(true, false, false)
		apply(expired, booking.ActionExpire, system, "")
		confirmed := book(true, true, true)
		apply(confirmed, booking.ActionConfirm, staff, "")
		late := book(true, true, false) // confirmed, its reminder due in hours: left to the sweep
		apply(late, booking.ActionConfirm, staff, "")
		silent := book(false, false, false)
		apply(silent, booking.ActionConfirm, staff, "")
		staffCancel := book(false, true, true)
		apply(staffCancel, booking.ActionConfirm, staff, "")
		apply(staffCancel, booking.ActionCancel, staff, "the surgeon is ill")

		// Nothing is written by the changes themselves; the relay writes
		// it all, and a second pass finds nothing more to write.
		if got := messagesOf(confirmed.ID); got != nil {
			t.Errorf("before the relay: got %+v, want nothing", got)
		}
		for range 2 {
			if err := n.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
		}

		tests := []struct {
			name string
			id   uuid.UUID
			want []written
		}{
			{"declined by staff: the reason is told; no text", declined.ID, []written{
				{KindEmail, Declined, "no referral yet", delivery.StatusPending},
				{KindEmail, Received, "", delivery.StatusPending},
			}},
			{"cancelled by the patient: the reason is not told", cancelled.ID, []written{
				{KindEmail, Cancelled, "", delivery.StatusPending},
				{KindSMS, Cancelled, "", delivery.StatusPending},
				{KindEmail, Received, "", delivery.StatusPending},
			}},
			{"expired: email only, no SMS consent", expired.ID, []written{
				{KindEmail, Expired, "", delivery.StatusPending},
				{KindEmail, Received, "", delivery.StatusPending},
			}},
			{"confirmed: email, text and the reminders", confirmed.ID, []written{
				{KindEmail, Confirmed, "", delivery.StatusPending},
				{KindSMS, Confirmed, "", delivery.StatusPending},
				{KindEmail, Received, "", delivery.StatusPending},
				{KindEmail, Reminder, "", delivery.StatusScheduled},
				{KindSMS, Reminder, "", delivery.StatusScheduled},
			}},
			{"no consent: the emails about the booking's state, no reminder, no text", silent.ID, []written{
				{KindEmail, Confirmed, "", delivery.StatusPending},
				{KindEmail, Received, "", delivery.StatusPending},
			}},
			{"reminder due in hours: not written with the change", late.ID, []written{
				{KindEmail, Confirmed, "", delivery.StatusPending},
				{KindSMS, Confirmed, "", delivery.StatusPending},
				{KindEmail, Received, "", delivery.StatusPending},
			}},
			{"texts, and emails but for the reminder, cancelled by staff with a reason", staffCancel.ID, []written{
				{KindEmail, Cancelled, "the surgeon is ill", delivery.StatusPending},
				{KindSMS, Cancelled, "the surgeon is ill", delivery.StatusPending},
				{KindEmail, Confirmed, "", delivery.StatusPending},
				{KindSMS, Confirmed, "", delivery.StatusPending},
				{KindEmail, Received, "", delivery.StatusPending},
				{KindSMS, Reminder, "", delivery.StatusScheduled},
			}},
		}
		for _, tt := range tests {
			if got := messagesOf(tt.id); !slices.Equal(got, tt.want) {
				t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
			}
		}
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
