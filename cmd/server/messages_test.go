package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinic/consult/internal/apitest"
	"github.com/clinic/consult/internal/mailpit"
	"github.com/clinic/consult/internal/storetest"
)

// twilioRecorder answers as Twilio's Messages API does and records what a
// Twilio account would have received. fail holds the statuses of the next
// answers to give instead of 201 (429 or 5xx, with Twilio's error body).
type twilioRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	got  []twilioRequest
	fail []int
	sid  string
}

type twilioRequest struct {
	Path       string
	User, Pass string
	Form       url.Values
	Status     int
}

func newTwilioRecorder(t *testing.T, sid string) *twilioRecorder {
	r := &twilioRecorder{sid: sid}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, pass, _ := req.BasicAuth()
		_ = req.ParseForm()
		r.mu.Lock()
		status := http.StatusCreated
		if len(r.fail) > 0 {
			status, r.fail = r.fail[0], r.fail[1:]
		}
		if req.Method != http.MethodPost || req.URL.Path != "/2010-04-01/Accounts/"+sid+"/Messages.json" {
			status = http.StatusNotFound
		}
		r.got = append(r.got, twilioRequest{Path: req.URL.Path, User: user, Pass: pass, Form: req.PostForm, Status: status})
		n := len(r.got)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == http.StatusCreated {
			fmt.Fprintf(w, `{"sid": "SM%032d", "status": "queued", "to": %q, "from": %q, "body": %q}`,
				n, req.PostForm.Get("To"), req.PostForm.Get("From"), req.PostForm.Get("Body"))
			return
		}
		fmt.Fprintf(w, `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": %d}`, status)
	}))
	t.Cleanup(r.Close)
	return r
}

// sent returns the messages Twilio accepted.
func (r *twilioRecorder) sent() []twilioRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []twilioRequest
	for _, g := range r.got {
		if g.Status == http.StatusCreated {
			out = append(out, g)
		}
	}
	return out
}

func (r *twilioRecorder) all() []twilioRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]twilioRequest(nil), r.got...)
}

// api is a small JSON client whose responses are checked against
// openapi.yaml.
type api struct {
	t     *testing.T
	base  string
	token string
	c     *http.Client
}

func newAPI(t *testing.T, base string) *api {
	return &api{t: t, base: base, c: &http.Client{Transport: apitest.Transport(t, nil), Timeout: 30 * time.Second}}
}

func (a *api) call(method, path string, body any, want int, out any, headers ...string) []byte {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := a.c.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		a.t.Fatalf("%s %s: got status %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return b
}

type idOnly struct {
	ID string `json:"id"`
}

// clinic is a provider, location and consultation type made for a test.
type clinic struct {
	providers []string
	location  string
	ctype     string
}

const (
	adminEmail    = "admin@clinic.test"
	adminPassword = "correct horse battery staple"
)

func setUpClinic(t *testing.T, a *api, providers int) clinic {
	t.Helper()
	var login struct {
		AccessToken string `json:"access_token"`
	}
	a.call("POST", "/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPassword}, 200, &login)
	a.token = login.AccessToken
	var c clinic
	for i := range providers {
		var p idOnly
		a.call("POST", "/v1/providers", map[string]string{"name": fmt.Sprintf("Dr. Dana Reyes %d", i+1), "title": "Spine surgeon"}, 201, &p)
		c.providers = append(c.providers, p.ID)
	}
	var l, ct idOnly
	a.call("POST", "/v1/locations", map[string]string{"name": "Main office", "address": "100 Spine Way\nSpringfield, CA 90000", "timezone": "America/Los_Angeles"}, 201, &l)
	a.call("POST", "/v1/consultation-types", map[string]any{"name": "New patient consultation", "duration_minutes": 45, "requires_confirmation": true}, 201, &ct)
	c.location, c.ctype = l.ID, ct.ID
	return c
}

func (c clinic) slot(t *testing.T, a *api, provider int, start time.Time) string {
	t.Helper()
	var s idOnly
	a.call("POST", "/v1/slots", map[string]any{"provider_id": c.providers[provider], "location_id": c.location, "consultation_type_id": c.ctype,
		"start_at": start.Format(time.RFC3339), "end_at": start.Add(45 * time.Minute).Format(time.RFC3339)}, 201, &s)
	return s.ID
}

// intakeMarker is in every intake answer of these tests: it must never
// appear in a message.
const intakeMarker = "INTAKEzq"

func bookingBody(slot, email string, byEmail, bySMS bool) map[string]any {
	return map[string]any{
		"slot_id": slot,
		"patient": map[string]any{"first_name": "Ana", "last_name": "Lopez", "date_of_birth": "1980-04-02", "phone": "+14245550123", "email": email},
		"intake": map[string]any{"red_flags": []string{"none"}, "pain_severity": 7, "relieved_by": []string{"heat_or_ice"}, "pain_started_on": "2026-11-01",
			"pre_existing_conditions": []string{"herniated_disc"}, "spasm_frequency": "daily", "recent_physical_activity": true,
			"activity_details": intakeMarker + " moved house", "reason": intakeMarker + " lower back spasms"},
		"consent": map[string]any{"privacy_policy_accepted": true, "contact_by_email": byEmail, "contact_by_sms": bySMS},
	}
}

type created struct {
	ID          string `json:"id"`
	Reference   string `json:"reference"`
	ManageToken string `json:"manage_token"`
	Status      string `json:"status"`
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// subjects returns the subjects of the mail to address, oldest first.
func subjects(t *testing.T, mp *mailpit.Server, address string) []string {
	t.Helper()
	msgs, err := mp.To(context.Background(), address)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Subject)
	}
	return out
}

func hasPrefixIn(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

var manageLink = regexp.MustCompile(`http://clinic\.test/manage#reference=([A-Z0-9%-]+)&token=([A-Za-z0-9_%-]+)`)

// gsm7 holds the characters of the GSM 03.38 basic set that texts may use.
const gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

func messageEnv(mp *mailpit.Server, tw *twilioRecorder, dbURL string, reminderBefore time.Duration) map[string]string {
	return map[string]string{
		"DATABASE_URL":             dbURL,
		"BOOTSTRAP_ADMIN_EMAIL":    adminEmail,
		"BOOTSTRAP_ADMIN_PASSWORD": adminPassword,
		"JWT_SECRET":               "messages-test-secret-messages-test-secret",
		"SMTP_URL":                 mp.SMTPURL(),
		"SMTP_FROM":                "Spine Clinic <clinic@clinic.test>",
		"CLINIC_NAME":              "Spine Clinic",
		"PUBLIC_BASE_URL":          "http://clinic.test",
		"TWILIO_ACCOUNT_SID":       "ACtest0001",
		"TWILIO_AUTH_TOKEN":        "twilio-secret",
		"TWILIO_FROM":              "+15005550006",
		"TWILIO_API_URL":           tw.URL,
		"REMINDER_BEFORE":          reminderBefore.String(),
		"DELIVERY_RETRY_BASE":      "200ms",
		"PUBLIC_RATE_LIMIT":        "0",
		"PATIENT_CHANGE_CUTOFF":    "1h",
	}
}

func TestPatientMessagesEndToEnd(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testPatientMessages(t, b.URL(t)) })
	}
}

func testPatientMessages(t *testing.T, dbURL string) {
	ctx := context.Background()
	mp := mailpit.Start(t)
	tw := newTwilioRecorder(t, "ACtest0001")
	tw.fail = []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} // the first texts are refused, then retried
	// Reminders come REMINDER_BEFORE (3h) before the start: appointments A
	// and D start at s1, made once the clinic is set up so that their
	// reminders are due some twenty seconds after they are booked, however
	// long the set-up took.
	const reminderBefore = 3 * time.Hour
	base := startServer(t, messageEnv(mp, tw, dbURL, reminderBefore))
	a := newAPI(t, base)
	cl := setUpClinic(t, a, 3)
	s1 := time.Now().Add(reminderBefore + 20*time.Second).Truncate(time.Second)
	slotA := cl.slot(t, a, 0, s1)
	slotD := cl.slot(t, a, 1, s1)
	slotB := cl.slot(t, a, 2, s1.Add(2*time.Hour))
	slotB2 := cl.slot(t, a, 2, s1.Add(4*time.Hour))
	slotC := cl.slot(t, a, 0, s1.Add(2*time.Hour))
	patient := newAPI(t, base)

	// textsSaying counts the texts accepted that contain s.
	textsSaying := func(s string) int {
		n := 0
		for _, r := range tw.sent() {
			if strings.Contains(r.Form.Get("Body"), s) {
				n++
			}
		}
		return n
	}
	// Each step below waits for the messages of the one before: a message
	// still unsent when a newer one about its booking is written is
	// superseded, never sent (see TestPatientHearsTheNewestStateLast).

	// A: a web request (pending), confirmed by staff, then reminded.
	var bA created
	patient.call("POST", "/v1/booking-requests", bookingBody(slotA, "a@patients.test", true, true), 201, &bA)
	waitUntil(t, "A's request received", 20*time.Second, func() bool { return len(subjects(t, mp, "a@patients.test")) >= 1 })
	a.call("POST", "/v1/bookings/"+bA.ID+"/confirm", nil, 200, nil)
	// D: booked confirmed by phone, cancelled by the patient before its
	// reminder is due: no reminder.
	var bD created
	bodyD := bookingBody(slotD, "d@patients.test", true, false)
	bodyD["status"] = "confirmed"
	a.call("POST", "/v1/bookings", bodyD, 201, &bD)
	// B: confirmed, moved, cancelled by staff with a reason.
	var bB created
	patient.call("POST", "/v1/booking-requests", bookingBody(slotB, "b@patients.test", true, true), 201, &bB)
	waitUntil(t, "B's request received", 20*time.Second, func() bool { return len(subjects(t, mp, "b@patients.test")) >= 1 })
	a.call("POST", "/v1/bookings/"+bB.ID+"/confirm", nil, 200, nil)
	waitUntil(t, "B's confirmation", 20*time.Second, func() bool {
		return len(subjects(t, mp, "b@patients.test")) >= 2 && textsSaying("confirmed for") >= 2
	})
	a.call("POST", "/v1/bookings/"+bB.ID+"/reschedule", map[string]string{"slot_id": slotB2}, 200, nil)
	waitUntil(t, "B's move", 20*time.Second, func() bool {
		return len(subjects(t, mp, "b@patients.test")) >= 3 && textsSaying("moved to") >= 1
	})
	a.call("POST", "/v1/bookings/"+bB.ID+"/cancel", map[string]string{"reason": "Dr. Reyes is away that day"}, 200, nil)
	// C: no consent to be contacted: the email about the request's state
	// still goes to the address given (consent governs reminders and
	// texts), nothing else.
	var bC created
	patient.call("POST", "/v1/booking-requests", bookingBody(slotC, "c@patients.test", false, false), 201, &bC)

	// Staff bookings give no token in the answer: D cancels with the
	// manage link of the confirmation email.
	waitUntil(t, "D's confirmation", 20*time.Second, func() bool { return len(subjects(t, mp, "d@patients.test")) >= 1 })
	dMail, err := mp.To(ctx, "d@patients.test")
	if err != nil {
		t.Fatal(err)
	}
	dFull, err := mp.Message(ctx, dMail[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	dLink := manageLink.FindStringSubmatch(dFull.Text)
	if dLink == nil {
		t.Fatalf("D's confirmation has no manage link:\n%s", dFull.Text)
	}
	dToken, _ := url.QueryUnescape(dLink[2])
	patient.call("POST", "/v1/booking-requests/"+bD.Reference+"/cancel", map[string]string{}, 200, nil, "X-Booking-Token: "+dToken)

	waitUntil(t, "A's reminder", 60*time.Second, func() bool {
		return hasPrefixIn(subjects(t, mp, "a@patients.test"), "Reminder: ")
	})
	waitUntil(t, "B's four emails", 20*time.Second, func() bool { return len(subjects(t, mp, "b@patients.test")) >= 4 })
	waitUntil(t, "the texts", 30*time.Second, func() bool { return len(tw.sent()) >= 5 })
	time.Sleep(2 * time.Second) // anything wrongly sent (D's reminder, C's mail) has had its chance

	wantSubjects := map[string][]string{
		"a@patients.test": {"We received your request", "Your appointment is confirmed", "Reminder: "},
		"b@patients.test": {"We received your request", "Your appointment is confirmed", "Your appointment has moved", "Your appointment is cancelled"},
		"d@patients.test": {"Your appointment is confirmed", "Your appointment is cancelled"},
		"c@patients.test": {"We received your request"},
	}
	// A booking's messages arrive in the order of its changes.
	for addr, want := range wantSubjects {
		got := subjects(t, mp, addr)
		if len(got) != len(want) {
			t.Errorf("mail to %s: got %q, want subjects starting %q", addr, got, want)
			continue
		}
		for i, w := range want {
			if !strings.HasPrefix(got[i], w) {
				t.Errorf("mail to %s: got subjects %q, want %q in that order", addr, got, want)
				break
			}
		}
	}

	// Every message: text and HTML parts, a Message-ID of its own, the
	// details and a working manage link; never an intake answer.
	all, err := mp.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, s := range all {
		m, err := mp.Message(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := mp.Raw(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(intakeMarker)) || strings.Contains(m.Text+m.HTML, intakeMarker) {
			t.Errorf("message %q contains an intake answer", m.Subject)
		}
		if ids[m.MessageID] || m.MessageID == "" {
			t.Errorf("message %q: Message-ID %q is empty or repeated", m.Subject, m.MessageID)
		}
		ids[m.MessageID] = true
		if m.From.Address != "clinic@clinic.test" {
			t.Errorf("message %q from %q, want clinic@clinic.test", m.Subject, m.From.Address)
		}
		for _, want := range []string{"Spine Clinic", "New patient consultation", "Dr. Dana Reyes", "Main office", "100 Spine Way", "America/Los_Angeles"} {
			if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
				t.Errorf("message %q: text or HTML part lacks %q", m.Subject, want)
			}
		}
		link := manageLink.FindStringSubmatch(m.Text)
		if link == nil || !strings.Contains(m.HTML, "http://clinic.test/manage#reference=") {
			t.Errorf("message %q has no manage link in both parts", m.Subject)
			continue
		}
		ref, _ := url.QueryUnescape(link[1])
		token, _ := url.QueryUnescape(link[2])
		patient.call("GET", "/v1/booking-requests/"+ref, nil, 200, nil, "X-Booking-Token: "+token)

		var wantMethod, wantStatus string
		switch {
		case strings.HasPrefix(m.Subject, "Your appointment is cancelled"):
			wantMethod, wantStatus = "METHOD:CANCEL", "STATUS:CANCELLED"
		case strings.HasPrefix(m.Subject, "We received"):
		default:
			wantMethod, wantStatus = "METHOD:PUBLISH", "STATUS:CONFIRMED"
		}
		if wantMethod == "" {
			if len(m.Attachments) != 0 {
				t.Errorf("message %q: got %d attachments, want none", m.Subject, len(m.Attachments))
			}
			continue
		}
		if len(m.Attachments) != 1 || !strings.HasPrefix(m.Attachments[0].ContentType, "text/calendar") {
			t.Errorf("message %q: got attachments %+v, want one text/calendar", m.Subject, m.Attachments)
			continue
		}
		ics, err := mp.Part(ctx, s.ID, m.Attachments[0].PartID)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{wantMethod, wantStatus, "TZID=America/Los_Angeles", "BEGIN:VTIMEZONE", "SUMMARY:New patient consultation with Dr. Dana Reyes"} {
			if !bytes.Contains(ics, []byte(want)) {
				t.Errorf("message %q: calendar file lacks %q:\n%s", m.Subject, want, ics)
			}
		}
	}

	// The cancellation by staff gives the reason; D's, by the patient, does
	// not say who cancelled.
	for _, s := range all {
		if s.To[0].Address == "b@patients.test" && strings.HasPrefix(s.Subject, "Your appointment is cancelled") {
			m, _ := mp.Message(ctx, s.ID)
			if !strings.Contains(m.Text, "Dr. Reyes is away that day") {
				t.Errorf("B's cancellation lacks the staff's reason:\n%s", m.Text)
			}
		}
	}

	// Texts: A confirmed and reminded, B confirmed, moved and cancelled;
	// Twilio's 429 and 503 answers were retried.
	texts := tw.sent()
	if len(texts) != 5 {
		t.Errorf("texts accepted: got %d, want 5", len(texts))
	}
	if n := len(tw.all()); n != 7 {
		t.Errorf("requests to Twilio: got %d, want 7 (5 accepted after a 429 and a 503)", n)
	}
	for _, r := range texts {
		body := r.Form.Get("Body")
		if r.User != "ACtest0001" || r.Pass != "twilio-secret" || r.Form.Get("To") != "+14245550123" || r.Form.Get("From") != "+15005550006" {
			t.Errorf("text: got auth %s:%s to %q from %q, want the account's and the patient's", r.User, r.Pass, r.Form.Get("To"), r.Form.Get("From"))
		}
		if n := len([]rune(body)); n > 160 {
			t.Errorf("text of %d characters, want at most 160: %q", n, body)
		}
		for _, c := range body {
			if !strings.ContainsRune(gsm7, c) {
				t.Errorf("text has %q, not in the GSM-7 alphabet: %q", c, body)
			}
		}
		if strings.Contains(body, intakeMarker) || !manageLink.MatchString(body) {
			t.Errorf("text: want a manage link and no intake answer: %q", body)
		}
	}

	// The calendar file route serves what the emails attach.
	res, err := http.NewRequest("GET", base+"/v1/booking-requests/"+bA.Reference+"/calendar.ics", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Header.Set("X-Booking-Token", bA.ManageToken)
	got, err := patient.c.Do(res)
	if err != nil {
		t.Fatal(err)
	}
	icsBody, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if got.StatusCode != 200 || !strings.HasPrefix(got.Header.Get("Content-Type"), "text/calendar") ||
		!bytes.Contains(icsBody, []byte("UID:"+bA.ID+"@clinic.test")) || bytes.Contains(icsBody, []byte(intakeMarker)) {
		t.Errorf("calendar.ics: got %d %s:\n%s", got.StatusCode, got.Header.Get("Content-Type"), icsBody)
	}
	patient.call("GET", "/v1/booking-requests/"+bA.Reference+"/calendar.ics", nil, 404, nil, "X-Booking-Token: wrong")

	// Admins see the messages; none failed.
	var failed, sent struct {
		Items []map[string]any `json:"items"`
	}
	a.call("GET", "/v1/messages?status=failed", nil, 200, &failed)
	a.call("GET", "/v1/messages?status=sent&limit=200", nil, 200, &sent)
	if len(failed.Items) != 0 || len(sent.Items) < len(all)+len(texts) {
		t.Errorf("admin list: got %d failed and %d sent, want 0 and at least %d", len(failed.Items), len(sent.Items), len(all)+len(texts))
	}
	metrics := string(a.call("GET", "/metrics", nil, 200, nil))
	for _, want := range []string{fmt.Sprintf(`notifications_total{channel="email",result="sent"} %d`, len(all)),
		`notifications_total{channel="sms",result="retry"} 2`, `notifications_total{channel="email",result="skipped"} 1`,
		"outbox_pending ", "outbox_oldest_age_seconds ", "patient_messages_relay_behind 0\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
