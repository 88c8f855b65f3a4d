package httpapi_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/notify"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// newEnvWithMessages starts a server whose patient email goes through the
// real delivery queue to the SMTP server at 127.0.0.1:smtpPort; with
// nothing listening there, every email fails after two seconds of tries.
func newEnvWithMessages(t *testing.T, dbURL string, smtpPort int, opts ...envOption) *env {
	t.Helper()
	st := storetest.Open(t, dbURL)
	ws := delivery.NewWorkers(2*time.Second, slog.New(slog.DiscardHandler), nil)
	mailer, err := notify.NewMailer(config.SMTP{Host: "127.0.0.1", Port: smtpPort, Security: config.STARTTLSOpportunistic}, "clinic@clinic.test")
	if err != nil {
		t.Fatal(err)
	}
	patients := notify.New(notify.Config{ClinicName: "Spine Clinic", PublicBaseURL: "http://clinic.test", RetryBase: 200 * time.Millisecond, Email: mailer}, st)
	patients.Register(ws)
	q, err := delivery.New(delivery.Config{DB: st.QueueDB(), Postgres: st.Dialect() == store.Postgres, Workers: ws, Lease: 4 * time.Second,
		PollInterval: 100 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	patients.Attach(q)
	runFollower(t, q, patients.Relay)
	return newEnvOn(t, st, func(d *httpapi.Deps) { d.Queue = q }, opts...)
}

type messageJSON struct {
	ID        int64       `json:"id"`
	BookingID string      `json:"booking_id"`
	Booking   *msgBooking `json:"booking"`
	Status    string      `json:"status"`
	LastError *string     `json:"last_error"`
}

// msgBooking is a message's summary of its booking.
type msgBooking struct {
	Reference string    `json:"reference"`
	Status    string    `json:"status"`
	PatientID *string   `json:"patient_id"`
	FirstName string    `json:"first_name"`
	LastName  string    `json:"last_name"`
	StartAt   time.Time `json:"start_at"`
	Timezone  string    `json:"timezone"`
}

// listMessages reads GET /v1/messages?query as role.
func listMessages(t *testing.T, e *env, role auth.Role, query string) []messageJSON {
	t.Helper()
	r := e.do("GET", "/v1/messages?"+query, nil, e.token(role))
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/messages?%s: %d %s", query, r.Status, r.Body)
	}
	var page struct {
		Items []messageJSON `json:"items"`
	}
	r.decode(t, &page)
	return page.Items
}

// TestMessagesOfAPatient: a patient's record lists the messages about
// their bookings (every status), not another patient's; reception sees
// failed messages and retries one; a clinician is refused.
func TestMessagesOfAPatient(t *testing.T) {
	mailpit.BinaryFor(t) // the retried email is received for real
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			port, err := mailpit.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			e := newEnvWithMessages(t, b.URL(t), port, noRateLimit)
			k := newClinic(t, e)
			ana := k.request(t, k.slot(t, slotOpts{}))
			kim := with(with(with(requestBody(k.slot(t, slotOpts{})), "patient.phone", "+14245559876"), "patient.last_name", "Kim"), "patient.email", "kim@example.com")
			var other created
			if r := e.do("POST", "/v1/booking-requests", kim); r.Status != http.StatusCreated {
				t.Fatalf("booking request: %d %s", r.Status, r.Body)
			} else {
				r.decode(t, &other)
			}
			waitFor(t, 30*time.Second, "both emails to fail", func() bool {
				return len(listMessages(t, e, auth.RoleReception, "status=failed")) == 2
			})
			var bk struct {
				PatientID string `json:"patient_id"`
				Slot      struct {
					StartAt time.Time `json:"start_at"`
				} `json:"slot"`
			}
			e.do("GET", "/v1/bookings/"+ana.ID, nil, e.token(auth.RoleReception)).decode(t, &bk)
			got := listMessages(t, e, auth.RoleReception, "patient_id="+bk.PatientID)
			if len(got) != 1 || got[0].BookingID != ana.ID || got[0].Status != "failed" || got[0].LastError == nil {
				t.Fatalf("messages of Ana's record: %+v, want her one failed email with its error", got)
			}
			// Each failed message names its booking: whose, which, when.
			anaSummary := msgBooking{Reference: ana.Reference, Status: "pending", PatientID: &bk.PatientID, FirstName: "Ana", LastName: "Lopez",
				StartAt: bk.Slot.StartAt, Timezone: "America/Los_Angeles"}
			summaries := map[string]msgBooking{}
			for _, m := range listMessages(t, e, auth.RoleReception, "status=failed") {
				if m.Booking == nil {
					t.Errorf("failed message %d: booking null, want its summary", m.ID)
					continue
				}
				summaries[m.BookingID] = *m.Booking
			}
			for id, want := range map[string]msgBooking{ana.ID: anaSummary, other.ID: {Reference: other.Reference, LastName: "Kim"}} {
				got, ok := summaries[id]
				switch {
				case !ok:
					t.Errorf("failed messages: none about booking %s", id)
				case got.Reference != want.Reference || want.FirstName == "" && got.LastName != want.LastName:
					t.Errorf("the failed message about %s names %+v, want reference %s, last name %s", id, got, want.Reference, want.LastName)
				case want.FirstName != "" && (got.Status != want.Status || got.PatientID == nil || *got.PatientID != *want.PatientID || got.FirstName != want.FirstName ||
					got.LastName != want.LastName || !got.StartAt.Equal(want.StartAt) || got.Timezone != want.Timezone):
					t.Errorf("the failed message about Ana's booking names %+v, want %+v", got, want)
				}
			}
			if got := listMessages(t, e, auth.RoleReception, "patient_id=00000000-0000-4000-8000-000000000000"); len(got) != 0 {
				t.Errorf("messages of an unknown patient: %+v, want none", got)
			}
			if got := listMessages(t, e, auth.RoleReception, "status=sent&patient_id="+bk.PatientID); len(got) != 0 {
				t.Errorf("sent messages of Ana's record: %+v, want none yet", got)
			}
			if r := e.do("GET", "/v1/messages?patient_id="+bk.PatientID, nil, e.token(auth.RoleClinician)); r.Status != http.StatusForbidden {
				t.Errorf("a clinician lists messages: %d, want 403", r.Status)
			}
			if r := e.do("POST", fmt.Sprintf("/v1/messages/%d/retry", got[0].ID), nil, e.token(auth.RoleClinician)); r.Status != http.StatusForbidden {
				t.Errorf("a clinician retries a message: %d, want 403", r.Status)
			}

			mp, err := mailpit.StartAt(mailpit.BinaryFor(t), t.TempDir(), port)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(mp.Stop)
			r := e.do("POST", fmt.Sprintf("/v1/messages/%d/retry", got[0].ID), nil, e.token(auth.RoleReception))
			if r.Status != http.StatusOK {
				t.Fatalf("reception retries: %d %s", r.Status, r.Body)
			}
			var retried messageJSON
			r.decode(t, &retried)
			if retried.Booking == nil || retried.Booking.Reference != ana.Reference {
				t.Errorf("the retried message names the booking %+v, want %s", retried.Booking, ana.Reference)
			}
			waitFor(t, 20*time.Second, "the retried email sent", func() bool {
				s := listMessages(t, e, auth.RoleReception, "patient_id="+bk.PatientID)
				return len(s) == 1 && s[0].Status == "sent"
			})
			if got := listMessages(t, e, auth.RoleReception, "status=failed"); len(got) != 1 || got[0].BookingID != other.ID {
				t.Errorf("failed messages after the retry: %+v, want Kim's only", got)
			}
		})
	}
}
