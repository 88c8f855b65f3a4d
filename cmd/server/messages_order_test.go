package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/storetest"
)

// hookRecorder accepts webhooks and keeps their bodies.
type hookRecorder struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []webhookBody
}

type webhookBody struct {
	Type string `json:"type"`
	Data struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	} `json:"data"`
}

func newHookRecorder(t *testing.T) *hookRecorder {
	r := &hookRecorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		var b webhookBody
		if err := json.Unmarshal(raw, &b); err == nil {
			r.mu.Lock()
			r.bodies = append(r.bodies, b)
			r.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookRecorder) of(booking string) []webhookBody {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []webhookBody
	for _, b := range r.bodies {
		if b.Data.ID == booking {
			out = append(out, b)
		}
	}
	return out
}

// textsTo returns the bodies of the texts Twilio accepted for phone, in the
// order they reached it.
func (r *twilioRecorder) textsTo(phone string) []string {
	var out []string
	for _, g := range r.sent() {
		if g.Form.Get("To") == phone {
			out = append(out, g.Form.Get("Body"))
		}
	}
	return out
}

// TestPatientHearsTheNewestStateLast: bookings created, confirmed and
// cancelled in quick succession, many at once, on two server instances
// that both deliver, one of them killed (SIGKILL) as the last changes are
// made. Every patient's last email and last text is the cancellation, and
// no confirmation comes after one (without the booking's send turn about
// a third of the patients heard "confirmed" last). Webhooks may come in
// any order, but each booking's data.version grows with each change. The
// admin message list pages through all of it.
func TestPatientHearsTheNewestStateLast(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testNewestStateLast(t, fileOrSchema(t, b.Name)) })
	}
}

func testNewestStateLast(t *testing.T, dbURL string) {
	mp := mailpit.Start(t)
	tw := newTwilioRecorder(t, "ACtest0001")
	hooks := newHookRecorder(t)
	env := messageEnv(mp, tw, dbURL, time.Hour)
	env["WEBHOOK_ALLOW_PRIVATE"] = "1"
	env["DELIVERY_LEASE"] = "4s" // a killed instance's sends are taken over within seconds
	doomed := startProcess(t, env)
	base := startProcess(t, env).base
	a := newAPI(t, base)
	cl := setUpClinic(t, a, 1)
	a.call("POST", "/v1/webhook-endpoints", map[string]any{"url": hooks.URL + "/hooks", "event_types": []string{"*"}}, 201, nil)

	const n = 30
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	slots := make([]string, n)
	for i := range slots {
		slots[i] = cl.slot(t, a, 0, start.Add(time.Duration(i)*time.Hour))
	}
	email := func(i int) string { return fmt.Sprintf("order%02d@patients.test", i) }
	phone := func(i int) string { return fmt.Sprintf("+1424555%04d", i) }
	ids := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 10)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			body := bookingBody(slots[i], email(i), true, true)
			body["patient"].(map[string]any)["phone"] = phone(i)
			var c created
			newAPI(t, base).call("POST", "/v1/booking-requests", body, 201, &c)
			a.call("POST", "/v1/bookings/"+c.ID+"/confirm", nil, 200, nil)
			a.call("POST", "/v1/bookings/"+c.ID+"/cancel", map[string]string{"reason": "the clinic is closed"}, 200, nil)
			ids[i] = c.ID
			if i == n/2 {
				doomed.kill() // whatever it was sending, and its turns, are left mid-way
			}
		}()
	}
	wg.Wait()

	lastIs := func(list []string, prefix string) bool {
		return len(list) > 0 && strings.HasPrefix(list[len(list)-1], prefix)
	}
	waitUntil(t, "every cancellation by email and text", 60*time.Second, func() bool {
		for i := range n {
			if !hasPrefixIn(subjects(t, mp, email(i)), "Your appointment is cancelled") {
				return false
			}
			if !strings.Contains(strings.Join(tw.textsTo(phone(i)), "\n"), "is cancelled") {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * time.Second) // a confirmation wrongly sent late has had its chance

	// A message in flight when its instance was killed may come twice (at
	// least once, with the same id); never a confirmation after a
	// cancellation.
	confirmedAfterCancelled := func(list []string) bool {
		cancelled := false
		for _, m := range list {
			cancelled = cancelled || strings.Contains(m, "is cancelled")
			if cancelled && strings.Contains(m, "confirmed") {
				return true
			}
		}
		return false
	}
	for i := range n {
		got := subjects(t, mp, email(i))
		if !lastIs(got, "Your appointment is cancelled") || confirmedAfterCancelled(got) {
			t.Errorf("patient %d: emails %q, want the cancellation last", i, got)
		}
		texts := tw.textsTo(phone(i))
		if len(texts) == 0 || !strings.Contains(texts[len(texts)-1], "is cancelled") || confirmedAfterCancelled(texts) {
			t.Errorf("patient %d: texts %q, want the cancellation last", i, texts)
		}
	}

	// Webhooks: every change of each booking, its version growing in the
	// order of the changes, whatever order they arrived in.
	order := map[string]int{"booking.created": 0, "booking.confirmed": 1, "booking.cancelled": 2}
	waitUntil(t, "every webhook", 30*time.Second, func() bool {
		for _, id := range ids {
			if len(hooks.of(id)) < 3 {
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		versions := make([]int, 3)
		for _, h := range hooks.of(id) {
			k, ok := order[h.Type]
			if !ok {
				t.Errorf("booking %s: webhook %q, want only created, confirmed, cancelled", id, h.Type)
				continue
			}
			versions[k] = h.Data.Version
		}
		if !(versions[0] > 0 && versions[0] < versions[1] && versions[1] < versions[2]) {
			t.Errorf("booking %s: data.version of created, confirmed, cancelled = %v, want strictly growing", id, versions)
		}
	}

	// The admin list: every status pages five at a time, each message
	// once; the sent ones are what Mailpit and Twilio received, and the
	// superseded ones are listed as skipped, with why.
	all, err := mp.Messages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// A message its killed instance was sending stays pending until the
	// queue takes it back (DELIVERY_LEASE) and its turn lapses; so the list
	// is read until every message has ended, sent or skipped.
	listed := func() map[string]int {
		counts := map[string]int{}
		for _, st := range []string{"scheduled", "pending", "sent", "failed", "skipped"} {
			seen := map[int64]bool{}
			cursor := ""
			for page := 0; ; page++ {
				if page > 100 {
					t.Fatalf("%s: more than 100 pages", st)
				}
				var list struct {
					Items []struct {
						ID        int64   `json:"id"`
						Status    string  `json:"status"`
						LastError *string `json:"last_error"`
					} `json:"items"`
					NextCursor *string `json:"next_cursor"`
				}
				path := "/v1/messages?limit=5&status=" + st
				if cursor != "" {
					path += "&cursor=" + cursor
				}
				a.call("GET", path, nil, 200, &list)
				for _, m := range list.Items {
					if seen[m.ID] || m.Status != st {
						t.Errorf("%s: message %d listed twice or as %s", st, m.ID, m.Status)
					}
					seen[m.ID] = true
					if st == "skipped" && (m.LastError == nil || *m.LastError == "") {
						t.Errorf("skipped message %d without a reason", m.ID)
					}
				}
				if list.NextCursor == nil {
					break
				}
				cursor = *list.NextCursor
			}
			counts[st] = len(seen)
		}
		return counts
	}
	counts := listed()
	for deadline := time.Now().Add(60 * time.Second); counts["pending"] > 0 && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		counts = listed()
	}
	if received := len(all) + len(tw.sent()); counts["sent"] > received || counts["sent"] < n*2 {
		t.Errorf("sent messages listed: got %d, want at least the %d cancellations and at most the %d Mailpit and Twilio received", counts["sent"], n*2, received)
	}
	if counts["failed"] != 0 || counts["pending"] != 0 {
		t.Errorf("failed and pending messages: got %d and %d, want none", counts["failed"], counts["pending"])
	}
	// Each booking wrote 3 emails and 2 texts; those not sent were skipped.
	if got, want := counts["sent"]+counts["skipped"], n*5; got != want {
		t.Errorf("sent and skipped: got %d + %d, want %d in all", counts["sent"], counts["skipped"], want)
	}
}

// TestStateEmailsWithoutConsentAndNoLateReminders: a patient who did not
// tick email reminders still gets the emails about the booking's state, and
// no reminder; a booking cancelled before its reminder time gets no
// reminder, while one still confirmed does (so the absence means
// something).
func TestStateEmailsWithoutConsentAndNoLateReminders(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testConsentAndReminders(t, b.URL(t)) })
	}
}

func testConsentAndReminders(t *testing.T, dbURL string) {
	mp := mailpit.Start(t)
	tw := newTwilioRecorder(t, "ACtest0001")
	const reminderBefore = 3 * time.Hour
	base := startServer(t, messageEnv(mp, tw, dbURL, reminderBefore))
	a := newAPI(t, base)
	cl := setUpClinic(t, a, 3)
	s1 := time.Now().Add(reminderBefore + 15*time.Second).Truncate(time.Second)
	slotE, slotF, slotG := cl.slot(t, a, 0, s1), cl.slot(t, a, 1, s1), cl.slot(t, a, 2, s1)
	patient := newAPI(t, base)

	// E: no box ticked; a web request, confirmed once it was received.
	var e created
	patient.call("POST", "/v1/booking-requests", bookingBody(slotE, "e@patients.test", false, false), 201, &e)
	waitUntil(t, "E's received email", 20*time.Second, func() bool { return len(subjects(t, mp, "e@patients.test")) == 1 })
	a.call("POST", "/v1/bookings/"+e.ID+"/confirm", nil, 200, nil)
	// F: reminders wanted, cancelled before its reminder time.
	var f, g created
	patient.call("POST", "/v1/booking-requests", bookingBody(slotF, "f@patients.test", true, false), 201, &f)
	a.call("POST", "/v1/bookings/"+f.ID+"/confirm", nil, 200, nil)
	// G: reminders wanted, still confirmed.
	patient.call("POST", "/v1/booking-requests", bookingBody(slotG, "g@patients.test", true, false), 201, &g)
	a.call("POST", "/v1/bookings/"+g.ID+"/confirm", nil, 200, nil)
	waitUntil(t, "F's confirmation", 20*time.Second, func() bool {
		return hasPrefixIn(subjects(t, mp, "f@patients.test"), "Your appointment is confirmed")
	})
	a.call("POST", "/v1/bookings/"+f.ID+"/cancel", map[string]string{}, 200, nil)

	waitUntil(t, "G's reminder", 60*time.Second, func() bool { return hasPrefixIn(subjects(t, mp, "g@patients.test"), "Reminder: ") })
	time.Sleep(2 * time.Second)

	tests := []struct {
		address string
		want    []string
	}{
		{"e@patients.test", []string{"We received your request", "Your appointment is confirmed"}},
		{"f@patients.test", []string{"Your appointment is confirmed", "Your appointment is cancelled"}},
	}
	for _, tt := range tests {
		got := subjects(t, mp, tt.address)
		ok := len(got) == len(tt.want)
		for i := 0; ok && i < len(got); i++ {
			ok = strings.HasPrefix(got[i], tt.want[i])
		}
		// F's received email may have been superseded by its confirmation.
		if !ok && tt.address == "f@patients.test" && len(got) == 3 && strings.HasPrefix(got[0], "We received") {
			ok = strings.HasPrefix(got[1], tt.want[0]) && strings.HasPrefix(got[2], tt.want[1])
		}
		if !ok {
			t.Errorf("mail to %s: got %q, want %q (and no reminder)", tt.address, got, tt.want)
		}
	}
	if texts := tw.sent(); len(texts) != 0 {
		t.Errorf("texts: got %d, want none (nobody ticked them)", len(texts))
	}
}
