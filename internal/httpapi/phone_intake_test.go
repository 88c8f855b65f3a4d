package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/auth"
)

// followUpBody is what a follow-up caller gives on the phone: who they are,
// the red-flag question, and their consent.
func followUpBody(slot string) map[string]any {
	return map[string]any{
		"slot_id": slot,
		"patient": map[string]any{"first_name": "Ana", "last_name": "Lopez", "date_of_birth": "1980-04-02", "phone": "+14245550123"},
		"intake":  map[string]any{"red_flags": []string{"none"}},
		"consent": map[string]any{"given_by_phone": true},
	}
}

// phoneView is the parts of the staff view the phone intake tests read.
type phoneView struct {
	ID           string         `json:"id"`
	Source       string         `json:"source"`
	Intake       map[string]any `json:"intake"`
	Consent      map[string]any `json:"consent"`
	PhoneConsent *struct {
		StaffID string    `json:"staff_id"`
		At      time.Time `json:"at"`
	} `json:"phone_consent"`
}

// TestPhoneBookingPartialIntake: a staff booking takes the intake the caller
// gives (only the red flags required) and records the consent as given by
// phone, with the staff member and the time.
func TestPhoneBookingPartialIntake(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		st, rec := e.staff(auth.RoleReception)
		before := time.Now().Add(-time.Second)
		r := e.do("POST", "/v1/bookings", followUpBody(k.slot(t, slotOpts{}).String()), rec)
		if r.Status != http.StatusCreated {
			t.Fatalf("follow-up caller: got %d %s, want 201", r.Status, r.Body)
		}
		var made phoneView
		r.decode(t, &made)
		// Read back from the store, not just the answer to the create.
		r = e.do("GET", "/v1/bookings/"+made.ID, nil, rec)
		var got phoneView
		r.decode(t, &got)
		if got.PhoneConsent == nil || got.PhoneConsent.StaffID != st.ID.String() ||
			got.PhoneConsent.At.Before(before) || got.PhoneConsent.At.After(time.Now().Add(time.Second)) {
			t.Errorf("phone_consent: got %+v, want staff %s at about now", got.PhoneConsent, st.ID)
		}
		if got.Consent["privacy_policy_accepted"] != true || got.Source != "phone" {
			t.Errorf("consent %v source %s, want privacy_policy_accepted true, phone", got.Consent, got.Source)
		}
		for _, q := range []string{"pain_severity", "spasm_frequency", "recent_physical_activity", "reason"} {
			if v, ok := got.Intake[q]; ok {
				t.Errorf("intake.%s: got %v, want left out (not asked)", q, v)
			}
		}

		// Answers given are kept; 0 is an answer, not "not asked".
		some := followUpBody(k.slot(t, slotOpts{}).String())
		some["intake"] = map[string]any{"red_flags": []string{"none"}, "pain_severity": 0, "recent_physical_activity": false}
		var partial phoneView
		k.e.do("POST", "/v1/bookings", some, rec).decode(t, &partial)
		if partial.Intake["pain_severity"] != 0.0 || partial.Intake["recent_physical_activity"] != false {
			t.Errorf("intake: got %v, want pain_severity 0 and recent_physical_activity false", partial.Intake)
		}

		// Older staff clients send the web consent: the same phone consent.
		old := followUpBody(k.slot(t, slotOpts{}).String())
		old["consent"] = map[string]any{"privacy_policy_accepted": true}
		var oldView phoneView
		k.e.do("POST", "/v1/bookings", old, rec).decode(t, &oldView)
		if oldView.PhoneConsent == nil || oldView.PhoneConsent.StaffID != st.ID.String() {
			t.Errorf("privacy_policy_accepted on a phone booking: phone_consent %+v", oldView.PhoneConsent)
		}

		// A web request has no phone consent.
		c := k.request(t, k.slot(t, slotOpts{}))
		var web phoneView
		e.do("GET", "/v1/bookings/"+c.ID, nil, rec).decode(t, &web)
		if web.PhoneConsent != nil {
			t.Errorf("web booking: phone_consent %+v, want null", web.PhoneConsent)
		}
	})
}

// TestPhoneIntakeRefusals: the public route stays as strict as before, and
// on the phone a given answer is still checked.
func TestPhoneIntakeRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		rec := e.token(auth.RoleReception)
		slot := k.slot(t, slotOpts{}).String()
		set := func(path string, v any) map[string]any { return with(followUpBody(slot), path, v) }
		tests := []struct {
			name, path string
			body       map[string]any
			authz      string
			want       []string
		}{
			{"public: the follow-up body", "/v1/booking-requests", with(followUpBody(slot), "consent", map[string]any{"privacy_policy_accepted": true}), "",
				[]string{"intake.pain_severity", "intake.spasm_frequency", "intake.recent_physical_activity", "intake.reason"}},
			{"public: consent by phone", "/v1/booking-requests", with(requestBody(k.slot(t, slotOpts{})), "consent", map[string]any{"given_by_phone": true}), "",
				[]string{"consent.given_by_phone", "consent.privacy_policy_accepted"}},
			{"public: same body as the phone", "/v1/booking-requests", followUpBody(slot), "",
				[]string{"intake.pain_severity", "intake.spasm_frequency", "intake.recent_physical_activity", "intake.reason", "consent.given_by_phone", "consent.privacy_policy_accepted"}},
			{"phone: no red flags", "/v1/bookings", set("intake.red_flags", remove), rec, []string{"intake.red_flags"}},
			{"phone: pain 11", "/v1/bookings", set("intake.pain_severity", 11), rec, []string{"intake.pain_severity"}},
			{"phone: pain as text", "/v1/bookings", set("intake.pain_severity", "high"), rec, []string{"intake.pain_severity"}},
			{"phone: unknown spasm frequency", "/v1/bookings", set("intake.spasm_frequency", "hourly"), rec, []string{"intake.spasm_frequency"}},
			{"phone: blank reason", "/v1/bookings", set("intake.reason", "  "), rec, []string{"intake.reason"}},
			{"phone: pain in the future", "/v1/bookings", set("intake.pain_started_on", "2999-01-01"), rec, []string{"intake.pain_started_on"}},
			{"phone: no consent", "/v1/bookings", set("consent", map[string]any{"contact_by_sms": true}), rec, []string{"consent.given_by_phone"}},
			{"phone: consent false", "/v1/bookings", set("consent.given_by_phone", false), rec, []string{"consent.given_by_phone"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var headers []string
				if tt.authz != "" {
					headers = append(headers, tt.authz)
				}
				checkFields(t, e.do("POST", tt.path, tt.body, headers...), tt.want)
			})
		}
		if n := k.booked(t, uuid.MustParse(slot)); n != 0 {
			t.Errorf("refused bookings took %d places, want 0", n)
		}
	})
}

// A phone booking speaks the caller's language: `locale` from the body,
// else English; never the receptionist's Accept-Language. A language the
// clinic does not speak is a 422 naming the field.
func TestPhoneBookingLocale(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		_, rec := e.staff(auth.RoleReception)
		for _, tc := range []struct {
			name   string
			locale any // nil: left out
			header string
			status int
			want   string
		}{
			{"the caller speaks Spanish", "es", "Accept-Language: en-US", http.StatusCreated, "es"},
			{"left out, a Spanish desk", nil, "Accept-Language: es-ES", http.StatusCreated, "en"},
			{"a language the clinic does not speak", "fr", "Accept-Language: en", http.StatusUnprocessableEntity, ""},
		} {
			body := followUpBody(k.slot(t, slotOpts{}).String())
			if tc.locale != nil {
				body["locale"] = tc.locale
			}
			r := e.do("POST", "/v1/bookings", body, rec, tc.header)
			if r.Status != tc.status {
				t.Errorf("%s: got %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
				continue
			}
			if tc.status != http.StatusCreated {
				if !strings.Contains(string(r.Body), `"locale"`) {
					t.Errorf("%s: the 422 does not name locale: %s", tc.name, r.Body)
				}
				continue
			}
			var made struct {
				ID     string `json:"id"`
				Locale string `json:"locale"`
			}
			r.decode(t, &made)
			var got struct {
				Locale string `json:"locale"`
			}
			e.do("GET", "/v1/bookings/"+made.ID, nil, rec).decode(t, &got)
			if made.Locale != tc.want || got.Locale != tc.want {
				t.Errorf("%s: locale %q (read back %q), want %q", tc.name, made.Locale, got.Locale, tc.want)
			}
		}
	})
}
