package httpapi_test

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/config"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/notify"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// A server whose waitlist sends real email: the waitlist follower of the
// live feed (offers on a freed place) and the link resent on a repeated
// join, on a real delivery queue in the same store, to a real Mailpit.

// lateLinks hands the server the waitlist follower, made once the server's
// address (the links' base) is known.
type lateLinks struct {
	w atomic.Pointer[notify.WaitlistOffers]
}

func (l *lateLinks) ResendLinkTx(ctx context.Context, tx *sql.Tx, e booking.WaitlistEntry) (bool, error) {
	return l.w.Load().ResendLinkTx(ctx, tx, e)
}

// newMailEnv starts a server on dbURL whose waitlist messages go to mp.
func newMailEnv(t *testing.T, dbURL string, mp *mailpit.Server, opts ...envOption) *env {
	t.Helper()
	st := storetest.Open(t, dbURL)
	links := &lateLinks{}
	e := newEnvOn(t, st, func(d *httpapi.Deps) { d.WaitlistLinks = links }, opts...)
	log := slog.New(slog.DiscardHandler)
	mailer, err := notify.NewMailer(config.SMTP{Host: mp.SMTPHost, Port: mp.SMTPPort, Security: config.STARTTLSOpportunistic}, "clinic@example.com")
	if err != nil {
		t.Fatal(err)
	}
	w := notify.NewWaitlistOffers(notify.WaitlistConfig{
		Messages: notify.Config{ClinicName: "Spine Clinic", PublicBaseURL: e.URL, Email: mailer, Log: log},
		Policy:   testPolicy, SweepEvery: time.Hour,
	}, st)
	ws := delivery.NewWorkers(time.Hour, log, nil)
	w.Register(ws)
	q, err := delivery.New(delivery.Config{DB: st.QueueDB(), Postgres: st.Dialect() == store.Postgres, Workers: ws,
		PollInterval: 50 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	w.Attach(q)
	links.w.Store(w)
	runFollower(t, q, w.Relay)
	return e
}

// mailTo waits until address has want messages in mp (or fails), and
// returns them, newest first.
func mailTo(t *testing.T, mp *mailpit.Server, address string, want int) []mailpit.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := mp.To(context.Background(), address)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= want {
			var out []mailpit.Message
			for _, s := range got {
				m, err := mp.Message(context.Background(), s.ID)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, m)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("mail to %s: got %d messages, want %d", address, len(got), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var waitLink = regexp.MustCompile(`https?://[^\s"<]+/waitlist#reference=([^&\s]+)&token=([^\s"<]+)`)

// TestWaitlistRepeatJoinResendsTheLink: a patient who joins again with the
// same details gets the same entry back without any token (a 200 that
// says so), and the entry's link goes again to the email the entry was
// made with: once for the repeat, never to an address the repeat gave, not
// again within ten minutes, not for a replay of the same Idempotency-Key.
func TestWaitlistRepeatJoinResendsTheLink(t *testing.T) {
	mp := mailpit.Start(t)
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newMailEnv(t, b.URL(t), mp, func(o *httpapi.Options, _ *auth.Options) { o.PublicRateLimit = 0 })
			k := newClinic(t, e)
			ana, mallory := "ana-"+b.Name+"@example.com", "mallory-"+b.Name+"@example.com"
			body := waitlistBody(k.reviewed, "+14245550123", ana)
			body["locale"] = "es"
			first := k.join(t, body, "Idempotency-Key: first")
			if first.ManageToken == "" || first.Existing {
				t.Fatalf("first join: %+v, want a new entry with its token", first)
			}

			// Someone repeats Ana's phone with an address of their own.
			repeat := waitlistBody(k.reviewed, "+14245550123", mallory)
			r := e.do("POST", "/v1/waitlist", repeat, "Idempotency-Key: repeat")
			var got joinedJSON
			r.decode(t, &got)
			if r.Status != http.StatusOK || !got.Existing || got.ID != first.ID || got.LinkResent == nil || !*got.LinkResent ||
				strings.Contains(string(r.Body), "manage_token") || strings.Contains(string(r.Body), first.ManageToken) {
				t.Fatalf("repeat: %d %s, want 200 existing, link_resent and no token", r.Status, r.Body)
			}
			// The same key again is the same answer, and no second message.
			replay := e.do("POST", "/v1/waitlist", repeat, "Idempotency-Key: repeat")
			if replay.Status != http.StatusOK || replay.Header.Get("Idempotent-Replayed") != "true" || string(replay.Body) != string(r.Body) {
				t.Errorf("replay: %d %s, want the repeat's answer replayed", replay.Status, replay.Body)
			}
			// Ana herself, within ten minutes: nothing sent again.
			soon := e.do("POST", "/v1/waitlist", waitlistBody(k.reviewed, "+14245550123", ana), "Idempotency-Key: soon")
			var again joinedJSON
			soon.decode(t, &again)
			if soon.Status != http.StatusOK || !again.Existing || again.LinkResent == nil || *again.LinkResent || again.ManageToken != "" {
				t.Errorf("repeat within the gap: %d %s, want 200 existing, link_resent false", soon.Status, soon.Body)
			}

			msgs := mailTo(t, mp, ana, 1)
			// Whatever else was to come has had the time to come.
			time.Sleep(time.Second)
			if n := len(mailTo(t, mp, ana, 1)); n != 1 {
				t.Errorf("emails to the patient: %d, want exactly 1", n)
			}
			if n, err := mp.To(context.Background(), mallory); err != nil || len(n) != 0 {
				t.Errorf("emails to the address the repeat gave: %d (%v), want none", len(n), err)
			}
			m := msgs[0]
			if want := "Su lugar en la lista de espera (" + first.Reference + ")"; m.Subject != want {
				t.Errorf("subject %q, want %q (the entry's language)", m.Subject, want)
			}
			if !strings.Contains(m.Text, "Ya está en ella y nada ha cambiado") || !strings.Contains(m.HTML, `lang="es"`) {
				t.Errorf("the resent link is not the Spanish message:\n%s", m.Text)
			}
			link := waitLink.FindStringSubmatch(m.Text)
			if link == nil || !strings.HasPrefix(link[0], e.URL+"/waitlist#") {
				t.Fatalf("no link to the waitlist page in:\n%s", m.Text)
			}
			// The link's token is a token of the entry; the patient's page
			// speaks her language.
			var entry struct {
				Reference, Status, Locale string
			}
			g := e.do("GET", "/v1/waitlist/"+link[1], nil, "X-Waitlist-Token: "+link[2])
			g.decode(t, &entry)
			if g.Status != http.StatusOK || entry.Reference != first.Reference || entry.Status != "waiting" || entry.Locale != "es" {
				t.Errorf("the emailed link: %d %s, want the waiting entry in es", g.Status, g.Body)
			}
		})
	}
}
