package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
)

func TestBookingRequestCreatedAndViewedByThePatient(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		slot := k.slot(t, slotOpts{})
		r := e.do("POST", "/v1/booking-requests", requestBody(slot))
		if r.Status != http.StatusCreated {
			t.Fatalf("create: got %d %s, want 201", r.Status, r.Body)
		}
		var c created
		r.decode(t, &c)
		if c.Status != "pending" {
			t.Errorf("status for a type that requires confirmation: got %q, want pending", c.Status)
		}
		if _, ok := booking.NormalizeReference(c.Reference); !ok || len(c.ManageToken) < 40 {
			t.Errorf("reference %q or manage token %q malformed", c.Reference, c.ManageToken)
		}
		if got, want := r.Header.Get("Location"), "/v1/booking-requests/"+c.Reference; got != want {
			t.Errorf("Location: got %q, want %q", got, want)
		}
		if got := k.booked(t, slot); got != 1 {
			t.Errorf("slot booked: got %d, want 1", got)
		}

		view := e.do("GET", "/v1/booking-requests/"+c.Reference, nil, c.token())
		if view.Status != http.StatusOK {
			t.Fatalf("view: got %d %s", view.Status, view.Body)
		}
		for _, hidden := range []string{`"notes"`, `"manage_token"`, `"version"`, `"source"`} {
			if strings.Contains(string(view.Body), hidden) {
				t.Errorf("patient view shows %s: %s", hidden, view.Body)
			}
		}
		// The reference may be typed in lower case and without its dash.
		typed := strings.ToLower(strings.ReplaceAll(c.Reference, "-", ""))
		if r := e.do("GET", "/v1/booking-requests/"+typed, nil, c.token()); r.Status != http.StatusOK {
			t.Errorf("view by typed reference %q: got %d", typed, r.Status)
		}

		// A wrong token and an unknown reference look the same.
		wrong := e.do("GET", "/v1/booking-requests/"+c.Reference, nil, "X-Booking-Token: not-the-token")
		unknown := e.do("GET", "/v1/booking-requests/ZZZZ-ZZZZ", nil, c.token())
		garbage := e.do("GET", "/v1/booking-requests/%3Cscript%3E", nil, c.token())
		for name, r := range map[string]resp{"wrong token": wrong, "unknown reference": unknown, "garbage reference": garbage} {
			if r.Status != http.StatusNotFound || string(r.Body) != string(wrong.Body) {
				t.Errorf("%s: got %d %s, want the same 404 as a wrong token", name, r.Status, r.Body)
			}
		}
		if r := e.do("GET", "/v1/booking-requests/"+c.Reference, nil); r.Status != http.StatusBadRequest {
			t.Errorf("no token: got %d, want 400", r.Status)
		}

		// A type without confirmation starts confirmed.
		c2 := k.request(t, k.slot(t, slotOpts{typeID: k.instant}))
		if c2.Status != "confirmed" {
			t.Errorf("status for a type without confirmation: got %q, want confirmed", c2.Status)
		}
	})
}

func TestBookingRequestValidationNamesEveryField(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	k := newClinic(t, e)
	slot := k.slot(t, slotOpts{})
	tomorrow := time.Now().AddDate(0, 0, 2).Format("2006-01-02")

	t.Run("every value wrong", func(t *testing.T) {
		body := map[string]any{
			"slot_id": "not-a-uuid",
			"patient": map[string]any{
				"first_name": " ", "last_name": strings.Repeat("x", 101), "date_of_birth": tomorrow,
				"phone": "555-0123", "email": "ana at example",
			},
			"intake": map[string]any{
				"pain_severity": 11, "relieved_by": []string{"prayer", "heat_or_ice", "heat_or_ice"},
				"pain_started_on": tomorrow, "pre_existing_conditions": []string{"broken_heart"},
				"spasm_frequency": "hourly", "activity_details": strings.Repeat("a", 1001),
				"reason": strings.Repeat("r", 2001),
			},
			"consent": map[string]any{"privacy_policy_accepted": false},
		}
		r := e.do("POST", "/v1/booking-requests", body)
		want := []string{
			"slot_id", "patient.first_name", "patient.last_name", "patient.date_of_birth", "patient.phone",
			"patient.email", "intake.pain_severity", "intake.relieved_by", "intake.relieved_by[0]",
			"intake.pre_existing_conditions[0]", "intake.pain_started_on", "intake.spasm_frequency",
			"intake.recent_physical_activity", "intake.activity_details", "intake.reason",
			"consent.privacy_policy_accepted", "intake.red_flags",
		}
		checkFields(t, r, want)
	})

	t.Run("every type wrong", func(t *testing.T) {
		body := map[string]any{
			"slot_id": 42,
			"patient": map[string]any{
				"first_name": 1, "last_name": true, "date_of_birth": 19800402, "phone": 14245550123.0, "email": []int{1},
			},
			"intake": map[string]any{
				"pain_severity": "7", "relieved_by": "heat_or_ice", "pain_started_on": 2026,
				"pre_existing_conditions": []int{1}, "spasm_frequency": 3, "recent_physical_activity": "yes",
				"activity_details": 1, "reason": map[string]any{},
			},
			"consent": map[string]any{"privacy_policy_accepted": "true", "contact_by_sms": 1, "contact_by_email": "no"},
		}
		r := e.do("POST", "/v1/booking-requests", body)
		want := []string{
			"slot_id", "patient.first_name", "patient.last_name", "patient.date_of_birth", "patient.phone",
			"patient.email", "intake.pain_severity", "intake.relieved_by", "intake.pain_started_on",
			"intake.pre_existing_conditions", "intake.pre_existing_conditions[0]", "intake.spasm_frequency", "intake.recent_physical_activity",
			"intake.activity_details", "intake.reason", "consent.privacy_policy_accepted",
			"consent.contact_by_sms", "consent.contact_by_email", "intake.red_flags",
		}
		checkFields(t, r, want)
	})

	t.Run("everything missing", func(t *testing.T) {
		r := e.do("POST", "/v1/booking-requests", map[string]any{})
		want := []string{
			"slot_id", "patient", "patient.first_name", "patient.last_name", "patient.date_of_birth", "patient.phone",
			"intake", "intake.red_flags", "intake.pain_severity", "intake.spasm_frequency", "intake.recent_physical_activity", "intake.reason",
			"consent", "consent.privacy_policy_accepted",
		}
		checkFields(t, r, want)
	})

	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantField  string
	}{
		{"unknown top-level field", with(requestBody(slot), "colour", "red"), 422, "colour"},
		{"unknown nested field", with(requestBody(slot), "patient.ssn", "123"), 422, "patient.ssn"},
		{"staff-only status", with(requestBody(slot), "status", "confirmed"), 422, "status"},
		{"patient not an object", with(requestBody(slot), "patient", "Ana"), 422, "patient"},
		{"pain before birth", with(requestBody(slot), "intake.pain_started_on", "1970-01-01"), 422, "intake.pain_started_on"},
		{"unknown slot", with(requestBody(slot), "slot_id", uuid.NewString()), 422, "slot_id"},
		{"broken json", `{"slot_id":`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/v1/booking-requests", tt.body)
			if r.Status != tt.wantStatus {
				t.Fatalf("got %d %s, want %d", r.Status, r.Body, tt.wantStatus)
			}
			if tt.wantField != "" {
				checkFields(t, r, []string{tt.wantField})
			}
		})
	}

	// The email is optional, and spelled-out phone numbers are normalised.
	body := with(with(requestBody(slot), "patient.email", remove), "patient.phone", "+1 (424) 555-0123")
	r := e.do("POST", "/v1/booking-requests", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("no email: got %d %s, want 201", r.Status, r.Body)
	}
	var got struct {
		Patient map[string]any `json:"patient"`
	}
	r.decode(t, &got)
	if _, has := got.Patient["email"]; has || got.Patient["phone"] != "+14245550123" {
		t.Errorf("patient: got %v, want no email and phone +14245550123", got.Patient)
	}
	if n := k.booked(t, slot); n != 1 {
		t.Errorf("booked after one valid request among invalid ones: got %d, want 1", n)
	}
}

// checkFields insists on a 422 naming exactly want (in any order).
func checkFields(t *testing.T, r resp, want []string) {
	t.Helper()
	if r.Status != http.StatusUnprocessableEntity || r.code() != "validation_failed" {
		t.Fatalf("got %d %s, want 422 validation_failed", r.Status, r.Body)
	}
	var p struct {
		Errors []struct{ Field, Message string } `json:"errors"`
	}
	r.decode(t, &p)
	var got []string
	for _, f := range p.Errors {
		got = append(got, f.Field)
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Field)
		}
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("fields:\n got %v\nwant %v", got, want)
	}
	// Health data is not echoed back in errors.
	if strings.Contains(string(r.Body), "lower back") || strings.Contains(string(r.Body), "Lopez") {
		t.Errorf("problem echoes request values: %s", r.Body)
	}
}

func TestBookingRequestSlotRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		now := time.Now()
		full := k.slot(t, slotOpts{})
		k.request(t, full)
		tests := []struct {
			name string
			slot uuid.UUID
		}{
			{"full", full},
			{"blocked", k.slot(t, slotOpts{blocked: true})},
			{"inside the minimum notice", k.slot(t, slotOpts{start: now.Add(90 * time.Minute)})},
			{"beyond the maximum advance", k.slot(t, slotOpts{start: now.Add(121 * 24 * time.Hour)})},
			{"in the past", k.slot(t, slotOpts{start: now.Add(-24 * time.Hour)})},
		}
		for _, tt := range tests {
			r := e.do("POST", "/v1/booking-requests", requestBody(tt.slot))
			if r.Status != http.StatusConflict || r.code() != "slot_unavailable" {
				t.Errorf("%s: got %d %s, want 409 slot_unavailable", tt.name, r.Status, r.Body)
			}
		}
		for _, tt := range tests[1:] {
			if n := k.booked(t, tt.slot); n != 0 {
				t.Errorf("%s: refused request left booked=%d", tt.name, n)
			}
		}
	})
}

func TestBookingRequestIdempotency(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		slot := k.slot(t, slotOpts{capacity: 5})
		key := "Idempotency-Key: " + uuid.NewString()
		first := e.do("POST", "/v1/booking-requests", requestBody(slot), key)
		if first.Status != http.StatusCreated {
			t.Fatalf("first: got %d %s", first.Status, first.Body)
		}
		// The same body, spelled differently (key order, spacing), replays.
		again := e.do("POST", "/v1/booking-requests", requestBody(slot), key)
		b, _ := json.MarshalIndent(requestBody(slot), "", "   ")
		spaced := e.do("POST", "/v1/booking-requests", string(b), key)
		for name, r := range map[string]resp{"again": again, "spaced": spaced} {
			if r.Status != http.StatusCreated || string(r.Body) != string(first.Body) {
				t.Errorf("%s: got %d %s, want the first response again", name, r.Status, r.Body)
			}
			if r.Header.Get("Location") != first.Header.Get("Location") || r.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("%s: headers %v", name, r.Header)
			}
		}
		if n := k.booked(t, slot); n != 1 {
			t.Errorf("booked after replays: got %d, want 1", n)
		}
		// The same key with another body is refused, and creates nothing.
		other := e.do("POST", "/v1/booking-requests", with(requestBody(slot), "intake.pain_severity", 3), key)
		if other.Status != http.StatusConflict || other.code() != "idempotency_key_reused" {
			t.Errorf("other body: got %d %s, want 409 idempotency_key_reused", other.Status, other.Body)
		}
		// Another key is another request.
		if r := e.do("POST", "/v1/booking-requests", requestBody(slot), "Idempotency-Key: "+uuid.NewString()); r.Status != http.StatusCreated {
			t.Errorf("new key: got %d", r.Status)
		}
		if n := k.booked(t, slot); n != 2 {
			t.Errorf("booked: got %d, want 2", n)
		}
		// A refusal is not stored: once the slot has a place again, the
		// same key and body are tried afresh.
		full := k.slot(t, slotOpts{})
		k.request(t, full)
		key2 := "Idempotency-Key: " + uuid.NewString()
		if r := e.do("POST", "/v1/booking-requests", requestBody(full), key2); r.code() != "slot_unavailable" {
			t.Errorf("full slot: got %d %s", r.Status, r.Body)
		}
		if r := e.do("POST", "/v1/booking-requests", requestBody(slot), key2); r.Status != http.StatusCreated {
			t.Errorf("key after a refusal, other slot: got %d %s, want 201", r.Status, r.Body)
		}
		if r := e.do("POST", "/v1/booking-requests", requestBody(slot), "Idempotency-Key: "+strings.Repeat("k", 256)); r.Status != http.StatusBadRequest {
			t.Errorf("over-long key: got %d, want 400", r.Status)
		}
	})
}

func TestPatientCancelsAndReschedules(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		ctx := context.Background()
		a, b := k.slot(t, slotOpts{}), k.slot(t, slotOpts{})
		c := k.request(t, a)
		path := "/v1/booking-requests/" + c.Reference

		// Reschedule: the new place is taken and the old one freed.
		r := e.do("POST", path+"/reschedule", map[string]string{"slot_id": b.String()}, c.token())
		if r.Status != http.StatusOK {
			t.Fatalf("reschedule: got %d %s", r.Status, r.Body)
		}
		if k.booked(t, a) != 0 || k.booked(t, b) != 1 {
			t.Errorf("after reschedule booked a=%d b=%d, want 0 and 1", k.booked(t, a), k.booked(t, b))
		}
		refused := []struct {
			name, code string
			status     int
			slot       uuid.UUID
		}{
			{"same slot", "validation_failed", 422, b},
			{"other type", "validation_failed", 422, k.slot(t, slotOpts{typeID: k.instant})},
			{"other provider", "validation_failed", 422, k.slot(t, slotOpts{provider: k.provider2})},
			{"full slot", "slot_unavailable", 409, func() uuid.UUID { s := k.slot(t, slotOpts{}); k.request(t, s); return s }()},
			{"blocked slot", "slot_unavailable", 409, k.slot(t, slotOpts{blocked: true})},
			{"slot too soon", "slot_unavailable", 409, k.slot(t, slotOpts{start: time.Now().Add(time.Hour)})},
			{"unknown slot", "validation_failed", 422, uuid.New()},
		}
		for _, tt := range refused {
			r := e.do("POST", path+"/reschedule", map[string]string{"slot_id": tt.slot.String()}, c.token())
			if r.Status != tt.status || r.code() != tt.code {
				t.Errorf("reschedule to %s: got %d %s, want %d %s", tt.name, r.Status, r.Body, tt.status, tt.code)
			}
		}
		if k.booked(t, b) != 1 {
			t.Errorf("refused moves changed the slot: booked %d", k.booked(t, b))
		}
		if r := e.do("POST", path+"/reschedule", map[string]string{"slot_id": a.String()}, "X-Booking-Token: wrong"); r.Status != http.StatusNotFound {
			t.Errorf("reschedule with a wrong token: got %d, want 404", r.Status)
		}

		// Cancel frees the place; a second cancel is not a transition.
		r = e.do("POST", path+"/cancel", map[string]string{"reason": "feeling better"}, c.token())
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"cancelled"`) {
			t.Fatalf("cancel: got %d %s", r.Status, r.Body)
		}
		if k.booked(t, b) != 0 {
			t.Errorf("cancel did not free the place")
		}
		r = e.do("POST", path+"/cancel", nil, c.token())
		if r.Status != http.StatusConflict || r.code() != "invalid_transition" {
			t.Errorf("second cancel: got %d %s, want 409 invalid_transition", r.Status, r.Body)
		}
		if r := e.do("POST", path+"/cancel", nil, "X-Booking-Token: wrong"); r.Status != http.StatusNotFound {
			t.Errorf("cancel with a wrong token: got %d, want 404", r.Status)
		}

		// Inside the change cutoff the patient must call the clinic.
		soon := k.slot(t, slotOpts{start: time.Now().Add(10 * time.Hour)})
		late := k.request(t, soon)
		lp := "/v1/booking-requests/" + late.Reference
		for _, action := range []string{"cancel", "reschedule"} {
			r := e.do("POST", lp+"/"+action, map[string]string{"slot_id": a.String()}, late.token())
			if action == "cancel" {
				r = e.do("POST", lp+"/cancel", map[string]string{}, late.token())
			}
			if r.Status != http.StatusConflict || r.code() != "change_window_closed" {
				t.Errorf("%s inside the cutoff: got %d %s, want 409 change_window_closed", action, r.Status, r.Body)
			}
		}
		// The history records who did what.
		events, err := e.Store.BookingEvents(ctx, uuid.MustParse(c.ID))
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, ev := range events {
			types = append(types, string(ev.Type)+"/"+string(ev.Actor.Type))
		}
		if want := []string{"created/patient", "rescheduled/patient", "cancelled/patient"}; !slices.Equal(types, want) {
			t.Errorf("events: got %v, want %v", types, want)
		}
	})
}

func TestPublicWritesAreRateLimited(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) { o.PublicRateLimit = 2 })
	k := newClinic(t, e)
	slot := k.slot(t, slotOpts{capacity: 5})
	for i := 0; i < 2; i++ {
		if r := e.do("POST", "/v1/booking-requests", requestBody(slot)); r.Status != http.StatusCreated {
			t.Fatalf("request %d: got %d", i, r.Status)
		}
	}
	r := e.do("POST", "/v1/booking-requests", requestBody(slot))
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("third request: got %d Retry-After %q, want 429 with Retry-After", r.Status, r.Header.Get("Retry-After"))
	}
	if r := e.do("POST", "/v1/booking-requests/ABCD-EFGH/cancel", nil, "X-Booking-Token: x"); r.Status != http.StatusTooManyRequests {
		t.Errorf("cancel over the limit: got %d, want 429", r.Status)
	}
	// Reading is not limited.
	if r := e.do("GET", "/v1/booking-requests/ABCD-EFGH", nil, "X-Booking-Token: x"); r.Status != http.StatusNotFound {
		t.Errorf("view over the limit: got %d, want 404", r.Status)
	}
	if n := k.booked(t, slot); n != 2 {
		t.Errorf("booked: got %d, want 2", n)
	}
}
