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
	ID        int64   `json:"id"`
	BookingID string  `json:"booking_id"`
	Status    string  `json:"status"`
	LastError *string `json:"last_error"`
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
			}
			e.do("GET", "/v1/bookings/"+ana.ID, nil, e.token(auth.RoleReception)).decode(t, &bk)
			got := listMessages(t, e, auth.RoleReception, "patient_id="+bk.PatientID)
			if len(got) != 1 || got[0].BookingID != ana.ID || got[0].Status != "failed" || got[0].LastError == nil {
				t.Fatalf("messages of Ana's record: %+v, want her one failed email with its error", got)
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
