package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
	"github.com/clinic/consult/internal/webhook"
)

// triageProblem is the 422 of a request refused by the triage rules.
type triageProblem struct {
	Code   string `json:"code"`
	Triage *struct {
		Outcome string   `json:"outcome"`
		Message string   `json:"message"`
		Rules   []string `json:"rules"`
	} `json:"triage"`
}

// bookingTriage is the staff view's triage.
type bookingTriage struct {
	ID     string `json:"id"`
	Triage struct {
		Level             string   `json:"level"`
		Rules             []string `json:"rules"`
		IntakeFormVersion *string  `json:"intake_form_version"`
		Override          *struct {
			AdvisedEmergencyCare bool   `json:"advised_emergency_care"`
			Note                 string `json:"note"`
			StaffID              string `json:"staff_id"`
		} `json:"override"`
	} `json:"triage"`
}

// TestTriageEmergencyIsRefusedAndNothingKept: emergency red flags are
// refused with what to do now, in the patient's language, before any slot
// is taken; no booking, patient, feed event or message exists afterwards,
// only the anonymous count. Staff get the same refusal unless they record
// that they advised emergency care.
func TestTriageEmergencyIsRefusedAndNothingKept(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		slot := k.slot(t, slotOpts{})
		for _, tc := range []struct {
			flags  []string
			lang   string
			rules  []string
			phrase string
		}{
			{[]string{"saddle_numbness"}, "es-MX,es;q=0.9", []string{"cauda_equina"}, "servicios de emergencia"},
			{[]string{"bladder_bowel_change", "recent_trauma"}, "en", []string{"cauda_equina"}, "emergency services"},
			{[]string{"worsening_leg_weakness"}, "en", []string{"progressive_neurological_deficit"}, "emergency department"},
		} {
			r := e.do("POST", "/v1/booking-requests", with(requestBody(slot), "intake.red_flags", tc.flags),
				"Accept-Language: "+tc.lang, "Idempotency-Key: emergency-"+tc.flags[0])
			var p triageProblem
			r.decode(t, &p)
			if r.Status != http.StatusUnprocessableEntity || p.Code != "triage_emergency" || p.Triage == nil {
				t.Fatalf("%v: got %d %s, want 422 triage_emergency with a triage member", tc.flags, r.Status, r.Body)
			}
			if p.Triage.Outcome != "emergency" || !slices.Equal(p.Triage.Rules, tc.rules) || !strings.Contains(p.Triage.Message, tc.phrase) {
				t.Errorf("%v: triage = %+v, want emergency %v saying %q", tc.flags, *p.Triage, tc.rules, tc.phrase)
			}
		}
		if got := k.booked(t, slot); got != 0 {
			t.Errorf("slot booked = %d after refusals, want 0", got)
		}
		items, _, err := e.Store.ListBookings(t.Context(), store.BookingFilter{})
		if err != nil || len(items) != 0 {
			t.Errorf("bookings after refusals = %d (%v), want none", len(items), err)
		}
		if r := e.do("GET", "/v1/booking-events", nil, rec); !strings.Contains(string(r.Body), `"items":[]`) {
			t.Errorf("feed after refusals = %s, want no events (so no message either)", r.Body)
		}
		if r := e.do("GET", "/v1/patients", nil, rec); r.Status == http.StatusOK && !strings.Contains(string(r.Body), `"items":[]`) {
			t.Errorf("patients after refusals = %s, want none", r.Body)
		}
		if got := e.metric("triage_refusals_total"); got != 3 {
			t.Errorf("triage_refusals_total = %v, want 3", got)
		}

		// The same request by phone: refused, then booked with the override.
		phone := with(requestBody(slot), "intake.red_flags", []string{"saddle_numbness"})
		if r := e.do("POST", "/v1/bookings", phone, rec); r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"triage_emergency"`) {
			t.Fatalf("phone emergency: got %d %s, want 422 triage_emergency", r.Status, r.Body)
		}
		phone["triage_override"] = map[string]any{"advised_emergency_care": true, "note": "Advised A&E now; follow-up booked."}
		r := e.do("POST", "/v1/bookings", phone, rec)
		if r.Status != http.StatusCreated {
			t.Fatalf("phone emergency with override: got %d %s, want 201", r.Status, r.Body)
		}
		var b bookingTriage
		r.decode(t, &b)
		if b.Triage.Level != "urgent" || !slices.Equal(b.Triage.Rules, []string{"cauda_equina"}) || b.Triage.Override == nil ||
			!b.Triage.Override.AdvisedEmergencyCare || b.Triage.Override.Note != "Advised A&E now; follow-up booked." || b.Triage.Override.StaffID == "" {
			t.Errorf("phone override booking triage = %+v, want urgent, cauda_equina, the override with its staff member", b.Triage)
		}
		phone["triage_override"] = map[string]any{"advised_emergency_care": false}
		if r := e.do("POST", "/v1/bookings", phone, rec); r.Status != http.StatusUnprocessableEntity ||
			!slices.Contains(problemFields(t, r), "triage_override.advised_emergency_care") {
			t.Errorf("override false: got %d %s, want 422 naming triage_override.advised_emergency_care", r.Status, r.Body)
		}
	})
}

// TestTriageBadAnswers: an old client without red flags, an unknown value
// and "none" with another are 422 naming the field.
func TestTriageBadAnswers(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		slot := k.slot(t, slotOpts{})
		for _, tc := range []struct {
			name  string
			value any
			field string
		}{
			{"missing", remove, "intake.red_flags"},
			{"empty", []string{}, "intake.red_flags"},
			{"unknown value", []string{"headache"}, "intake.red_flags[0]"},
			{"none with another", []string{"none", "recent_trauma"}, "intake.red_flags"},
			{"not a list", "none", "intake.red_flags"},
		} {
			r := e.do("POST", "/v1/booking-requests", with(requestBody(slot), "intake.red_flags", tc.value))
			if r.Status != http.StatusUnprocessableEntity || !slices.Contains(problemFields(t, r), tc.field) {
				t.Errorf("%s: got %d %s, want 422 naming %s", tc.name, r.Status, r.Body, tc.field)
			}
		}
	})
}

// TestTriageUrgentFirstForStaffOnly: an urgent request is booked, marked
// with its rules and form version, flagged on the live feed, first in the
// staff's pending queue, and its triage never shows on the patient's view.
func TestTriageUrgentFirstForStaffOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		routine := k.request(t, k.slot(t, slotOpts{}))
		r := e.do("POST", "/v1/booking-requests", with(requestBody(k.slot(t, slotOpts{})), "intake.red_flags", []string{"recent_trauma"}))
		if r.Status != http.StatusCreated {
			t.Fatalf("urgent request: got %d %s, want 201", r.Status, r.Body)
		}
		var urgent created
		r.decode(t, &urgent)
		if strings.Contains(string(r.Body), `"triage"`) {
			t.Errorf("the patient's 201 carries triage: %s", r.Body)
		}
		pv := e.do("GET", "/v1/booking-requests/"+urgent.Reference, nil, "X-Booking-Token: "+urgent.ManageToken)
		if pv.Status != http.StatusOK || strings.Contains(string(pv.Body), `"triage"`) {
			t.Errorf("patient view: %d %s, want 200 without triage", pv.Status, pv.Body)
		}

		list := e.do("GET", "/v1/bookings?status=pending&sort=triage", nil, rec)
		var page struct {
			Items []bookingTriage `json:"items"`
		}
		list.decode(t, &page)
		if len(page.Items) != 2 || page.Items[0].ID != urgent.ID || page.Items[1].ID != routine.ID {
			t.Fatalf("pending queue = %s, want the urgent request first", list.Body)
		}
		got := page.Items[0].Triage
		if got.Level != "urgent" || !slices.Equal(got.Rules, []string{"possible_fracture"}) ||
			got.IntakeFormVersion == nil || *got.IntakeFormVersion != booking.IntakeFormVersion() || got.Override != nil {
			t.Errorf("urgent triage = %+v, want urgent, possible_fracture, the form version", got)
		}
		if rt := page.Items[1].Triage; rt.Level != "routine" {
			t.Errorf("routine triage level = %q", rt.Level)
		}

		feed := e.do("GET", "/v1/booking-events", nil, rec)
		var events struct {
			Items []struct {
				Type    string `json:"type"`
				Booking struct {
					ID string `json:"id"`
				} `json:"booking"`
			} `json:"items"`
		}
		feed.decode(t, &events)
		var flagged []string
		for _, ev := range events.Items {
			if ev.Type == "booking.flagged" {
				flagged = append(flagged, ev.Booking.ID)
			}
		}
		if !slices.Equal(flagged, []string{urgent.ID}) {
			t.Errorf("flagged events for %v, want only the urgent request %s", flagged, urgent.ID)
		}
	})
}

// TestIntakeFormServesTriageRulesAndVersions: the form carries its version
// and rules in the asked language; admins read a kept version, others may
// not, and an unknown one is 404.
func TestIntakeFormServesTriageRulesAndVersions(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		var form struct {
			Version     string `json:"version"`
			ClinicPhone *string
			Questions   []struct {
				Field           string  `json:"field"`
				ExclusiveOption *string `json:"exclusive_option"`
			} `json:"questions"`
			TriageRules []struct {
				ID      string `json:"id"`
				Outcome string `json:"outcome"`
				Message string `json:"message"`
			} `json:"triage_rules"`
		}
		e.do("GET", "/v1/intake-form?locale=es", nil).decode(t, &form)
		if form.Version != booking.IntakeFormVersion() || len(form.TriageRules) == 0 {
			t.Fatalf("form version %q with %d rules, want %q with rules", form.Version, len(form.TriageRules), booking.IntakeFormVersion())
		}
		if q := form.Questions[0]; q.Field != "intake.red_flags" || q.ExclusiveOption == nil || *q.ExclusiveOption != "none" {
			t.Errorf("first question = %+v, want intake.red_flags with none exclusive", q)
		}
		if r := form.TriageRules[0]; r.ID != "cauda_equina" || r.Outcome != "emergency" || !strings.Contains(r.Message, "urgencias") {
			t.Errorf("first Spanish rule = %+v", r)
		}

		admin, rec := e.token(auth.RoleAdmin), e.token(auth.RoleReception)
		r := e.do("GET", "/v1/intake-form/versions/"+form.Version, nil, admin)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"cauda_equina"`) {
			t.Errorf("admin reads the version: %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", "/v1/intake-form/versions/"+form.Version, nil, rec); r.Status != http.StatusForbidden {
			t.Errorf("reception reads the version: got %d, want 403", r.Status)
		}
		if r := e.do("GET", "/v1/intake-form/versions/000000000000", nil, admin); r.Status != http.StatusNotFound {
			t.Errorf("unknown version: got %d, want 404", r.Status)
		}
	})
}

// TestTriageFlaggedWebhook: an urgent request reaches a subscribed endpoint
// as booking.flagged, signed so the Standard Webhooks library verifies it;
// a routine request and a refused emergency send no flag.
func TestTriageFlaggedWebhook(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newHookEnv(t, b.URL(t), webhook.Guard{AllowPrivate: true}, 2*time.Second)
			admin := e.token(auth.RoleAdmin)
			rc := newReceiver(t, nil)
			ep := e.createEndpoint(t, admin, map[string]any{"url": rc.srv.URL + "/hook", "event_types": []string{"booking.flagged"}})
			rc.setSecret(ep.Secret)

			k := newClinic(t, e.env)
			k.request(t, k.slot(t, slotOpts{}))
			if r := e.do("POST", "/v1/booking-requests", with(requestBody(k.slot(t, slotOpts{})), "intake.red_flags", []string{"bladder_bowel_change"})); r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("emergency: got %d", r.Status)
			}
			r := e.do("POST", "/v1/booking-requests", with(requestBody(k.slot(t, slotOpts{})), "intake.red_flags", []string{"cancer_history"}))
			if r.Status != http.StatusCreated {
				t.Fatalf("urgent: got %d %s", r.Status, r.Body)
			}
			var urgent created
			r.decode(t, &urgent)
			waitFor(t, 15*time.Second, "the flagged webhook", func() bool { return len(rc.received()) >= 1 })
			time.Sleep(300 * time.Millisecond) // a wrong second hook has had its chance
			got := rc.received()
			if len(got) != 1 {
				t.Fatalf("received %d hooks, want 1 (the urgent request's flag)", len(got))
			}
			if got[0].Verified != nil {
				t.Errorf("the Standard Webhooks library rejects it: %v", got[0].Verified)
			}
			var body struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}
			if err := json.Unmarshal(got[0].Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Type != "booking.flagged" || body.Data["reference"] != urgent.Reference {
				t.Errorf("hook = %s, want booking.flagged for %s", got[0].Body, urgent.Reference)
			}
			if _, ok := body.Data["intake"]; ok {
				t.Errorf("the hook carries the intake: %s", got[0].Body)
			}
		})
	}
}

// TestCountEmergencyScreen: a front end's emergency screen is counted with
// nothing sent but the call, and the count is under the public rate limit.
func TestCountEmergencyScreen(t *testing.T) {
	e := newEnv(t, sqliteURL(t), func(o *httpapi.Options, _ *auth.Options) { o.PublicRateLimit = 2 })
	for i, want := range []int{http.StatusNoContent, http.StatusNoContent, http.StatusTooManyRequests} {
		if r := e.do("POST", "/v1/intake-form/emergency-screens", nil); r.Status != want {
			t.Errorf("call %d: got %d %s, want %d", i+1, r.Status, r.Body, want)
		}
	}
	if got, want := e.metric("triage_emergency_screens_total"), 2.0; got != want {
		t.Errorf("triage_emergency_screens_total = %v, want %v", got, want)
	}
}
