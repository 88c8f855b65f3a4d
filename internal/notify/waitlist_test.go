package notify

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// waitFor joins the waitlist for ct, from today for ten days, with the
// patient's email; it returns the entry.
func waitFor(t *testing.T, s *store.Store, ct uuid.UUID, email string, times []string, at time.Time) booking.WaitlistEntry {
	t.Helper()
	sev, yes, reason := 7, true, "lower back spasms"
	today := booking.DateOf(at, time.UTC)
	req, err := booking.ParseWaitlist(booking.WaitlistInput{
		ConsultationTypeID: ct.String(), EarliestDate: today.String(), LatestDate: today.AddDays(10).String(), TimesOfDay: times,
		Patient: booking.PatientInput{FirstName: "Pat", LastName: "Waiting", DateOfBirth: "1980-04-02", Phone: "+1424555" + email[:4], Email: email},
		Intake:  booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes, ContactByEmail: &yes, ContactBySMS: &yes},
	}, at, false)
	if err != nil {
		t.Fatal(err)
	}
	e, ev, _, err := booking.NewWaitlistEntry(req, booking.SourceWeb, booking.Actor{Type: booking.ActorPatient}, at)
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.JoinWaitlist(context.Background(), e, ev, store.JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return j.Entry
}

var offerLink = regexp.MustCompile(`/waitlist#reference=([^&\s]+)&token=([^\s"<]+)`)

// TestWaitlistOfferOnCancel: a cancelled place is offered to the first
// matching entry (urgent first, then the oldest) with exactly one email,
// whose link's token accepts the offer and books the place.
func TestWaitlistOfferOnCancel(t *testing.T) {
	mp := mailpit.Start(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		mailer, err := NewMailer(config.SMTP{Host: mp.SMTPHost, Port: mp.SMTPPort, Security: config.STARTTLSOpportunistic}, "clinic@example.com")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		texts := map[string][]string{} // the Twilio stand-in's messages, by number
		twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			texts[r.FormValue("To")] = append(texts[r.FormValue("To")], r.FormValue("Body"))
			mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"sid": "SM1"}`)
		}))
		t.Cleanup(twilio.Close)
		sms := NewSMSSender(config.Twilio{AccountSID: "AC1", AuthToken: "secret", From: "+15005550006", APIURL: twilio.URL})
		policy := booking.DefaultPolicy()
		w := NewWaitlistOffers(WaitlistConfig{Messages: Config{ClinicName: "Spine Clinic", PublicBaseURL: "http://clinic.test", Email: mailer, SMS: sms, Log: log},
			Policy: policy, SweepEvery: time.Hour}, s)
		ws := delivery.NewWorkers(time.Hour, log, nil)
		w.Register(ws)
		q, err := delivery.New(delivery.Config{DB: s.QueueDB(), Postgres: s.Dialect() == store.Postgres, Workers: ws, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		w.Attach(q)
		// The cursor starts at the newest event: made before any change.
		if err := w.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}

		now := time.Now()
		// A morning slot three days ahead, full.
		start := booking.DateOf(now, time.UTC).AddDays(3).StartIn(time.UTC).Add(9 * time.Hour)
		sl := newSlot(t, s, "UTC", start, now)
		ct := sl.ConsultationTypeID
		req := patientRequest(t, sl.ID, true, false, now)
		res, err := s.CreateBooking(ctx, sl.ID, func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
			b, ev, _, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusConfirmed, booking.Actor{Type: booking.ActorPatient}, now)
			return b, ev, err
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		run := uuid.NewString()[:8]
		afternoon := waitFor(t, s, ct, "1001"+run+"@example.com", []string{"afternoon"}, now)
		first := waitFor(t, s, ct, "1002"+run+"@example.com", nil, now.Add(time.Second))
		second := waitFor(t, s, ct, "1003"+run+"@example.com", nil, now.Add(2*time.Second))

		if _, _, err := s.UpdateBooking(ctx, res.Booking.ID, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
			ev, err := b.Apply(booking.ActionCancel, booking.Actor{Type: booking.ActorPatient}, "", time.Now())
			return []booking.Event{ev}, err
		}); err != nil {
			t.Fatal(err)
		}
		if err := w.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = q.Stop(context.Background()) })

		var got []mailpit.Summary
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if got, err = mp.To(ctx, first.Patient.Email); err != nil {
				t.Fatal(err)
			}
			if len(got) > 0 {
				break
			}
		}
		if len(got) != 1 {
			t.Fatalf("emails to the first matching entry: %d, want 1", len(got))
		}
		time.Sleep(300 * time.Millisecond) // time for a wrong second email to arrive
		for _, other := range []booking.WaitlistEntry{afternoon, second} {
			if n, _ := mp.To(ctx, other.Patient.Email); len(n) != 0 {
				t.Errorf("%s got %d emails, want none", other.Patient.Email, len(n))
			}
		}
		if n, _ := mp.To(ctx, first.Patient.Email); len(n) != 1 {
			t.Errorf("emails to the first entry: %d, want exactly 1", len(n))
		}
		mu.Lock()
		for _, e := range []booking.WaitlistEntry{afternoon, first, second} {
			want := 0
			if e.ID == first.ID {
				want = 1
			}
			if n := len(texts[e.Patient.Phone]); n != want {
				t.Errorf("texts to %s: %d, want %d", e.Patient.Phone, n, want)
			}
		}
		if b := texts[first.Patient.Phone]; len(b) == 1 && !offerLink.MatchString(b[0]) {
			t.Errorf("text without the accept link: %q", b[0])
		}
		mu.Unlock()
		msg, err := mp.Message(ctx, got[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(msg.Text, "lower back") {
			t.Error("the offer email carries an intake answer")
		}
		m := offerLink.FindStringSubmatch(msg.Text)
		if m == nil || !strings.Contains(msg.Text, "http://clinic.test/waitlist#reference=") {
			t.Fatalf("no accept link in %q", msg.Text)
		}
		ref, _ := url.QueryUnescape(m[1])
		token, _ := url.QueryUnescape(m[2])
		id, err := s.WaitlistEntryIDByToken(ctx, ref, token)
		if err != nil || id != first.ID {
			t.Fatalf("the link's token: entry %s %v, want %s", id, err, first.ID)
		}
		var bookingToken string
		c, err := s.AcceptWaitlistOffer(ctx, id, func(e booking.WaitlistEntry, info booking.SlotInfo) (booking.Booking, booking.Event, error) {
			r := booking.Request{SlotID: info.Slot.ID, Patient: e.Patient, Intake: e.Intake, Consent: e.Consent}
			b, ev, tok, err := policy.PublicRequest(r, info, time.Now())
			bookingToken = tok
			return b, ev, err
		})
		if err != nil {
			t.Fatalf("accept by the link: %v", err)
		}
		if c.Booking.SlotID != sl.ID || c.Booking.Status != booking.StatusConfirmed || c.Booking.Patient.Email != first.Patient.Email || bookingToken == "" {
			t.Errorf("booking: slot %s status %s email %s", c.Booking.SlotID, c.Booking.Status, c.Booking.Patient.Email)
		}
	})
}

// TestWaitlistStaffOfferIsTold: a place reception offers by hand is told
// to the patient by the next sweep, once.
func TestWaitlistStaffOfferIsTold(t *testing.T) {
	mp := mailpit.Start(t)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		mailer, err := NewMailer(config.SMTP{Host: mp.SMTPHost, Port: mp.SMTPPort, Security: config.STARTTLSOpportunistic}, "clinic@example.com")
		if err != nil {
			t.Fatal(err)
		}
		policy := booking.DefaultPolicy()
		w := NewWaitlistOffers(WaitlistConfig{Messages: Config{ClinicName: "Spine Clinic", PublicBaseURL: "http://clinic.test", Email: mailer, Log: log},
			Policy: policy, SweepEvery: time.Hour}, s)
		ws := delivery.NewWorkers(time.Hour, log, nil)
		w.Register(ws)
		q, err := delivery.New(delivery.Config{DB: s.QueueDB(), Postgres: s.Dialect() == store.Postgres, Workers: ws, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		w.Attach(q)
		now := time.Now()
		// A slot after the entry's dates: the sweep would not offer it.
		start := booking.DateOf(now, time.UTC).AddDays(20).StartIn(time.UTC).Add(9 * time.Hour)
		sl := newSlot(t, s, "UTC", start, now)
		ct := sl.ConsultationTypeID
		e := waitFor(t, s, ct, "2001"+uuid.NewString()[:8]+"@example.com", nil, now)
		if _, err := s.OfferPlace(ctx, store.PlaceOffer{EntryID: e.ID, SlotID: sl.ID, ExpiresAt: now.Add(time.Hour),
			Actor: booking.StaffActor(uuid.New()), Check: func(info booking.SlotInfo) error { return policy.PublicHoldable(info, now) }}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := w.sweep(ctx, delivery.Job[WaitlistSweepArgs]{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = q.Stop(context.Background()) })
		var got []mailpit.Summary
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && len(got) == 0; time.Sleep(100 * time.Millisecond) {
			if got, err = mp.To(ctx, e.Patient.Email); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(500 * time.Millisecond)
		if got, _ = mp.To(ctx, e.Patient.Email); len(got) != 1 {
			t.Errorf("emails for the staff offer: %d, want 1", len(got))
		}
	})
}
