package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
	"github.com/clinic/consult/internal/webhook"
	"github.com/clinic/consult/internal/webhookrelay"
)

// hookEnv is a server with webhook delivery running: the sender on a real
// delivery queue in the same store, with the retry schedule shrunk a
// thousandfold (5 ms, 300 ms, 1.8 s, ...) and attempts cut at timeout.
type hookEnv struct {
	*env
	registry *prometheus.Registry
	queue    *delivery.Queue
}

// newHookEnv starts it; extra registers further kinds on the queue's
// workers.
func newHookEnv(t *testing.T, dbURL string, guard webhook.Guard, timeout time.Duration, extra ...func(*delivery.Workers)) *hookEnv {
	t.Helper()
	return newHookEnvWith(t, dbURL, guard, timeout, nil, extra...)
}

// newHookEnvWith is newHookEnv with the server's options adjusted by opts.
func newHookEnvWith(t *testing.T, dbURL string, guard webhook.Guard, timeout time.Duration, opts []envOption, extra ...func(*delivery.Workers)) *hookEnv {
	t.Helper()
	st := storetest.Open(t, dbURL)
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	snd := webhookrelay.New(webhookrelay.Config{
		Guard: guard, Render: httpapi.WebhookBody, Timeout: timeout, ScheduleScale: 0.001,
		GiveUp: 24 * time.Hour, Log: log,
	}, st)
	reg.MustRegister(snd.Collectors()...)
	ws := delivery.NewWorkers(24*time.Hour, log, nil)
	snd.Register(ws)
	for _, x := range extra {
		x(ws)
	}
	q, err := delivery.New(delivery.Config{DB: st.QueueDB(), Postgres: st.Dialect() == store.Postgres, Workers: ws,
		Queues: map[string]int{webhookrelay.Queue: webhookrelay.QueueWorkers}, PollInterval: 50 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	snd.Attach(q)
	runFollower(t, q, snd.Relay)
	e := newEnvOn(t, st, func(d *httpapi.Deps) {
		d.Webhooks = snd
		d.Registry = reg
	}, opts...)
	return &hookEnv{env: e, registry: reg, queue: q}
}

// receiver is a real HTTP server standing for the clinic's other system. It
// verifies every request with the Standard Webhooks reference library (not
// with the server's own signer) and answers as respond says.
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	secret  string
	got     []receivedHook
	respond func(n int, w http.ResponseWriter, r *http.Request) // n: 1 for the first request
}

type receivedHook struct {
	ID       string
	Verified error
	Body     []byte
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{t: t, respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		h := receivedHook{ID: r.Header.Get("webhook-id"), Body: body}
		wh, err := standardwebhooks.NewWebhook(rc.secret)
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		h.Verified = err
		rc.got = append(rc.got, h)
		n := len(rc.got)
		rc.mu.Unlock()
		if respond != nil {
			respond(n, w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) setSecret(s string) {
	rc.mu.Lock()
	rc.secret = s
	rc.mu.Unlock()
}

func (rc *receiver) received() []receivedHook {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receivedHook(nil), rc.got...)
}

// waitFor polls cond every 20 ms until it holds, failing t after wait.
func waitFor(t *testing.T, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", wait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type endpointJSON struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	EventTypes     []string `json:"event_types"`
	Active         bool     `json:"active"`
	DisabledReason *string  `json:"disabled_reason"`
	Secret         string   `json:"secret"`
}

type deliveryJSON struct {
	ID               string  `json:"id"`
	EventType        string  `json:"event_type"`
	Status           string  `json:"status"`
	Attempts         int     `json:"attempts"`
	LastStatusCode   *int    `json:"last_status_code"`
	LastError        *string `json:"last_error"`
	LastResponseBody *string `json:"last_response_body"`
	NextAttemptAt    *string `json:"next_attempt_at"`
}

func (e *env) createEndpoint(t *testing.T, admin string, body map[string]any) endpointJSON {
	t.Helper()
	r := e.do("POST", "/v1/webhook-endpoints", body, admin)
	if r.Status != http.StatusCreated {
		t.Fatalf("create endpoint: got %d %s, want 201", r.Status, r.Body)
	}
	var ep endpointJSON
	r.decode(t, &ep)
	return ep
}

func (e *env) deliveries(t *testing.T, admin, endpoint string) []deliveryJSON {
	t.Helper()
	r := e.do("GET", "/v1/webhook-endpoints/"+endpoint+"/deliveries", nil, admin)
	if r.Status != http.StatusOK {
		t.Fatalf("deliveries: got %d %s", r.Status, r.Body)
	}
	var p struct {
		Items []deliveryJSON `json:"items"`
	}
	r.decode(t, &p)
	return p.Items
}

func TestWebhookEndpointsCRUDAndSecrets(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.token(auth.RoleAdmin)
		ep := e.createEndpoint(t, admin, map[string]any{
			"url": "https://93.184.215.14/hooks", "description": "PM system", "event_types": []string{"booking.created"},
		})
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(ep.Secret, "whsec_"))
		if !strings.HasPrefix(ep.Secret, "whsec_") || err != nil || len(raw) != 32 {
			t.Fatalf("secret %q: want whsec_ and base64 of 32 bytes", ep.Secret)
		}
		if r := e.do("GET", "/v1/webhook-endpoints/"+ep.ID, nil, admin); r.Status != http.StatusOK || strings.Contains(string(r.Body), ep.Secret) || strings.Contains(string(r.Body), "secret") {
			t.Fatalf("get: got %d %s, want 200 without the secret", r.Status, r.Body)
		}
		if r := e.do("GET", "/v1/webhook-endpoints", nil, admin); r.Status != http.StatusOK || strings.Contains(string(r.Body), "whsec_") || !strings.Contains(string(r.Body), ep.ID) {
			t.Fatalf("list: got %d %s, want the endpoint without its secret", r.Status, r.Body)
		}
		r := e.do("PATCH", "/v1/webhook-endpoints/"+ep.ID, map[string]any{"event_types": []string{"*"}, "active": false}, admin)
		var upd endpointJSON
		r.decode(t, &upd)
		if r.Status != http.StatusOK || upd.Active || len(upd.EventTypes) != 1 || upd.EventTypes[0] != "*" {
			t.Fatalf("patch: got %d %s", r.Status, r.Body)
		}
		r = e.do("POST", "/v1/webhook-endpoints/"+ep.ID+"/rotate-secret", nil, admin)
		var rot endpointJSON
		r.decode(t, &rot)
		if r.Status != http.StatusOK || !strings.HasPrefix(rot.Secret, "whsec_") || rot.Secret == ep.Secret {
			t.Fatalf("rotate: got %d, secret %q (was %q), want a new one", r.Status, rot.Secret, ep.Secret)
		}
		if r := e.do("GET", "/v1/webhook-endpoints", nil, e.token(auth.RoleReception)); r.Status != http.StatusForbidden {
			t.Fatalf("reception lists endpoints: got %d, want 403", r.Status)
		}
		if r := e.do("DELETE", "/v1/webhook-endpoints/"+ep.ID, nil, admin); r.Status != http.StatusNoContent {
			t.Fatalf("delete: got %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", "/v1/webhook-endpoints/"+ep.ID, nil, admin); r.Status != http.StatusNotFound {
			t.Fatalf("get after delete: got %d, want 404", r.Status)
		}
	})
}

// Without WEBHOOK_ALLOW_PRIVATE, URLs that would make the server call into
// its own network are refused, naming url.
func TestWebhookEndpointRefusesPrivateAndBadURLs(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	admin := e.token(auth.RoleAdmin)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"url": "http://127.0.0.1/"}, "url"},
		{map[string]any{"url": "https://127.0.0.1/"}, "url"},
		{map[string]any{"url": "http://169.254.169.254/"}, "url"},
		{map[string]any{"url": "https://169.254.169.254/latest/meta-data/"}, "url"},
		{map[string]any{"url": "https://10.1.2.3/hook"}, "url"},
		{map[string]any{"url": "https://172.16.0.9/hook"}, "url"},
		{map[string]any{"url": "https://192.168.1.20/hook"}, "url"},
		{map[string]any{"url": "https://100.64.0.1/hook"}, "url"},
		{map[string]any{"url": "https://[::1]/hook"}, "url"},
		{map[string]any{"url": "https://[fd00::1]/hook"}, "url"},
		{map[string]any{"url": "https://[::ffff:10.0.0.1]/hook"}, "url"},
		{map[string]any{"url": "https://0.0.0.0/hook"}, "url"},
		{map[string]any{"url": "https://localhost/hook"}, "url"}, // a name resolving to loopback
		{map[string]any{"url": "http://93.184.215.14/hook"}, "url"},
		{map[string]any{"url": "ftp://93.184.215.14/hook"}, "url"},
		{map[string]any{"url": "https://user:pw@93.184.215.14/hook"}, "url"},
		{map[string]any{"url": "not a url"}, "url"},
		{map[string]any{"url": "https://93.184.215.14/", "event_types": []string{"booking.paid"}}, "event_types[0]"},
		{map[string]any{"url": "https://93.184.215.14/", "event_types": []string{"*", "booking.created"}}, "event_types"},
		{map[string]any{"url": "https://93.184.215.14/", "event_types": []string{}}, "event_types"},
		{map[string]any{"url": "https://93.184.215.14/", "colour": "red"}, "colour"},
	} {
		r := e.do("POST", "/v1/webhook-endpoints", tc.body, admin)
		var p struct {
			Errors []struct {
				Field string `json:"field"`
			} `json:"errors"`
		}
		_ = json.Unmarshal(r.Body, &p)
		if r.Status != http.StatusUnprocessableEntity || len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
			t.Errorf("POST %v: got %d %s, want 422 naming %s", tc.body, r.Status, r.Body, tc.field)
		}
	}
	// The same check guards a change of URL.
	ep := e.createEndpoint(t, admin, map[string]any{"url": "https://93.184.215.14/hooks"})
	if r := e.do("PATCH", "/v1/webhook-endpoints/"+ep.ID, map[string]any{"url": "https://169.254.169.254/"}, admin); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("PATCH to a link-local URL: got %d %s, want 422", r.Status, r.Body)
	}
}

// A receiver that fails twice and then answers 200 gets the same signed
// message three times; the log shows three attempts and success; the
// metric counts two retries and one success.
func TestWebhookRetriedUntilAccepted(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newHookEnv(t, b.URL(t), webhook.Guard{AllowPrivate: true}, 2*time.Second)
			admin := e.token(auth.RoleAdmin)
			rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n <= 2 {
					http.Error(w, "busy, try later", http.StatusServiceUnavailable)
					return
				}
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, strings.Repeat("x", 3000))
			})
			ep := e.createEndpoint(t, admin, map[string]any{"url": rc.srv.URL + "/hook", "event_types": []string{"booking.created", "booking.confirmed"}})
			rc.setSecret(ep.Secret)

			k := newClinic(t, e.env)
			c := k.request(t, k.slot(t, slotOpts{}))
			waitFor(t, 15*time.Second, "three attempts", func() bool { return len(rc.received()) >= 3 })
			got := rc.received()
			for i, h := range got {
				if h.Verified != nil {
					t.Errorf("attempt %d: the Standard Webhooks library rejects it: %v", i+1, h.Verified)
				}
				if h.ID != got[0].ID || h.ID == "" {
					t.Errorf("attempt %d: webhook-id %q, want the same on every attempt (%q)", i+1, h.ID, got[0].ID)
				}
			}
			var body struct {
				Type      string         `json:"type"`
				Timestamp time.Time      `json:"timestamp"`
				Data      map[string]any `json:"data"`
			}
			if err := json.Unmarshal(got[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Type != "booking.created" || body.Data["reference"] != c.Reference || body.Timestamp.IsZero() {
				t.Errorf("body: got %s", got[0].Body)
			}
			for _, secret := range []string{"intake", "notes", "manage_token"} {
				if _, ok := body.Data[secret]; ok {
					t.Errorf("body data carries %q", secret)
				}
			}
			var ds []deliveryJSON
			waitFor(t, 5*time.Second, "the log to show success", func() bool {
				ds = e.deliveries(t, admin, ep.ID)
				return len(ds) == 1 && ds[0].Status == "succeeded"
			})
			d := ds[0]
			if d.Attempts != 3 || d.LastStatusCode == nil || *d.LastStatusCode != 200 || d.ID != got[0].ID || d.NextAttemptAt != nil {
				t.Errorf("delivery: got %+v, want 3 attempts ending 200, no next attempt, id %s", d, got[0].ID)
			}
			if d.LastResponseBody == nil || len(*d.LastResponseBody) != webhook.MaxResponseBody {
				t.Errorf("stored response body: got %d bytes, want %d", len(deref(d.LastResponseBody)), webhook.MaxResponseBody)
			}
			m := e.do("GET", "/metrics", nil)
			for _, want := range []string{`webhook_deliveries_total{result="retry"} 2`, `webhook_deliveries_total{result="success"} 1`} {
				if !strings.Contains(string(m.Body), want) {
					t.Errorf("metrics: want %s", want)
				}
			}

			// An admin's redelivery sends it again, same id, signed anew.
			r := e.do("POST", "/v1/webhook-deliveries/"+d.ID+"/redeliver", nil, admin)
			if r.Status != http.StatusAccepted {
				t.Fatalf("redeliver: got %d %s", r.Status, r.Body)
			}
			waitFor(t, 10*time.Second, "the redelivery", func() bool { return len(rc.received()) == 4 })
			if h := rc.received()[3]; h.ID != d.ID || h.Verified != nil {
				t.Errorf("redelivery: id %q (want %q), verification %v", h.ID, d.ID, h.Verified)
			}
			if r := e.do("POST", "/v1/webhook-deliveries/"+uuid.NewString()+"/redeliver", nil, admin); r.Status != http.StatusNotFound {
				t.Errorf("redeliver unknown: got %d, want 404", r.Status)
			}
		})
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// 410 Gone disables the endpoint at once: no retry, and later changes send
// nothing to it.
func TestWebhookGoneDisablesEndpoint(t *testing.T) {
	e := newHookEnv(t, sqliteURL(t), webhook.Guard{AllowPrivate: true}, 2*time.Second)
	admin := e.token(auth.RoleAdmin)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) })
	ep := e.createEndpoint(t, admin, map[string]any{"url": rc.srv.URL})
	rc.setSecret(ep.Secret)
	k := newClinic(t, e.env)
	k.request(t, k.slot(t, slotOpts{}))
	var got endpointJSON
	waitFor(t, 10*time.Second, "the endpoint to be disabled", func() bool {
		e.do("GET", "/v1/webhook-endpoints/"+ep.ID, nil, admin).decode(t, &got)
		return !got.Active
	})
	if got.DisabledReason == nil || !strings.Contains(*got.DisabledReason, "410") {
		t.Errorf("disabled_reason: got %v, want it to name the 410", got.DisabledReason)
	}
	ds := e.deliveries(t, admin, ep.ID)
	if len(ds) != 1 || ds[0].Status != "failed" || ds[0].Attempts != 1 {
		t.Fatalf("deliveries: got %+v, want one failed after one attempt", ds)
	}
	k.request(t, k.slot(t, slotOpts{}))
	time.Sleep(300 * time.Millisecond)
	if n := len(rc.received()); n != 1 {
		t.Errorf("the receiver got %d requests, want 1 (none after the 410)", n)
	}
	if ds := e.deliveries(t, admin, ep.ID); len(ds) != 1 {
		t.Errorf("deliveries after disable: got %d, want still 1", len(ds))
	}
}

// A receiver that hangs and one that drops the connection are retried, and
// booking goes on meanwhile: deliveries never run inside a booking's
// request. (Were they to, the hanging receiver, which never answers until
// the test ends, would hang the bookings.) Only the endpoints that asked
// for an event type get it.
func TestWebhookFailingReceiversAreRetriedAndNeverBlockBooking(t *testing.T) {
	e := newHookEnv(t, sqliteURL(t), webhook.Guard{AllowPrivate: true}, 200*time.Millisecond)
	admin := e.token(auth.RoleAdmin)
	release := make(chan struct{})
	hang := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	drop := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	onlyCancel := newReceiver(t, nil)
	epHang := e.createEndpoint(t, admin, map[string]any{"url": hang.srv.URL})
	epDrop := e.createEndpoint(t, admin, map[string]any{"url": drop.srv.URL})
	epCancel := e.createEndpoint(t, admin, map[string]any{"url": onlyCancel.srv.URL, "event_types": []string{"booking.cancelled"}})
	hang.setSecret(epHang.Secret)
	drop.setSecret(epDrop.Secret)
	onlyCancel.setSecret(epCancel.Secret)

	k := newClinic(t, e.env)
	desk := e.token(auth.RoleReception)
	var last created
	for range 5 {
		last = k.request(t, k.slot(t, slotOpts{}))
	}
	if r := e.do("POST", "/v1/bookings/"+last.ID+"/cancel", map[string]string{"reason": "patient called"}, desk); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	for _, ep := range []endpointJSON{epHang, epDrop} {
		waitFor(t, 15*time.Second, "a second attempt at "+ep.URL, func() bool {
			for _, d := range e.deliveries(t, admin, ep.ID) {
				if d.Attempts >= 2 && d.Status == "pending" && d.LastError != nil && d.LastStatusCode == nil {
					return true
				}
			}
			return false
		})
	}
	if ds := e.deliveries(t, admin, epHang.ID); len(ds) != 6 {
		t.Errorf("hanging endpoint: got %d deliveries, want 6 (5 created, 1 cancelled)", len(ds))
	}
	waitFor(t, 10*time.Second, "the cancellation at the filtered endpoint", func() bool { return len(onlyCancel.received()) == 1 })
	time.Sleep(200 * time.Millisecond)
	got := onlyCancel.received()
	if len(got) != 1 || !strings.Contains(string(got[0].Body), `"booking.cancelled"`) || got[0].Verified != nil {
		t.Errorf("filtered endpoint: got %d requests, want exactly the one booking.cancelled, verified", len(got))
	}
}

// The address check is made again when each connection is dialled: an
// endpoint whose URL points at a private address by the time it is used
// (say, a name that was re-pointed: DNS rebinding) is refused before any
// byte is sent. And a redirect is an answer, not a hop: it is not followed.
func TestWebhookDialGuardAndNoRedirects(t *testing.T) {
	t.Run("private address at dial time", func(t *testing.T) {
		e := newHookEnv(t, sqliteURL(t), webhook.Guard{}, 2*time.Second)
		admin := e.token(auth.RoleAdmin)
		rc := newReceiver(t, nil)
		// Stored as if it had passed the check when saved.
		secret, _ := webhook.NewSecret()
		ep := webhook.Endpoint{ID: uuid.New(), URL: rc.srv.URL, EventTypes: []string{"*"}, Active: true, Secret: secret,
			CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := e.Store.CreateWebhookEndpoint(context.Background(), ep); err != nil {
			t.Fatal(err)
		}
		k := newClinic(t, e.env)
		k.request(t, k.slot(t, slotOpts{}))
		waitFor(t, 10*time.Second, "a refused attempt", func() bool {
			ds := e.deliveries(t, admin, ep.ID.String())
			return len(ds) == 1 && ds[0].Attempts >= 1 && ds[0].LastError != nil && strings.Contains(*ds[0].LastError, "refused")
		})
		if n := len(rc.received()); n != 0 {
			t.Errorf("the private receiver got %d requests, want 0", n)
		}
	})
	t.Run("redirect", func(t *testing.T) {
		e := newHookEnv(t, sqliteURL(t), webhook.Guard{AllowPrivate: true}, 2*time.Second)
		admin := e.token(auth.RoleAdmin)
		target := newReceiver(t, nil)
		redirect := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.srv.URL, http.StatusTemporaryRedirect)
		})
		ep := e.createEndpoint(t, admin, map[string]any{"url": redirect.srv.URL})
		redirect.setSecret(ep.Secret)
		k := newClinic(t, e.env)
		k.request(t, k.slot(t, slotOpts{}))
		waitFor(t, 10*time.Second, "a failed attempt", func() bool {
			ds := e.deliveries(t, admin, ep.ID)
			return len(ds) == 1 && ds[0].LastStatusCode != nil && *ds[0].LastStatusCode == http.StatusTemporaryRedirect && ds[0].Status == "pending"
		})
		if n := len(target.received()); n != 0 {
			t.Errorf("the redirect target got %d requests, want 0", n)
		}
	})
}

type probeArgs struct{}

func (probeArgs) Kind() string { return "probe" }

// Webhooks are worked in a queue of their own: with every webhook worker
// held by a receiver that hangs, another kind of message (a patient email,
// here a probe in the default queue) is still delivered at once.
func TestWebhooksCannotHoldUpOtherMessages(t *testing.T) {
	probed := make(chan int, 1)
	var inFlight sync.WaitGroup
	var mu sync.Mutex
	hanging := 0
	release := make(chan struct{})
	e := newHookEnv(t, sqliteURL(t), webhook.Guard{AllowPrivate: true}, 20*time.Second, func(ws *delivery.Workers) {
		delivery.Register(ws, func(context.Context, delivery.Job[probeArgs]) error {
			mu.Lock()
			probed <- hanging
			mu.Unlock()
			return nil
		}, nil)
	})
	hang := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		defer inFlight.Done()
		mu.Lock()
		hanging++
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		mu.Lock()
		hanging--
		mu.Unlock()
	})
	t.Cleanup(func() { close(release) })
	admin := e.token(auth.RoleAdmin)
	ep := e.createEndpoint(t, admin, map[string]any{"url": hang.srv.URL})
	hang.setSecret(ep.Secret)
	k := newClinic(t, e.env)
	for range webhookrelay.QueueWorkers + 2 {
		k.request(t, k.slot(t, slotOpts{}))
	}
	waitFor(t, 10*time.Second, "every webhook worker to hang", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return hanging == webhookrelay.QueueWorkers
	})
	tx, err := e.Store.QueueDB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.queue.InsertTx(context.Background(), tx, delivery.Insert{Args: probeArgs{}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-probed:
		if n != webhookrelay.QueueWorkers {
			t.Errorf("the probe ran with %d webhook attempts hanging, want all %d still hanging", n, webhookrelay.QueueWorkers)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the probe was not delivered while the webhook workers hang")
	}
}
