package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clinic/consult/internal/auth"
)

// fieldProblem is one item of a problem's errors.
type fieldProblem struct {
	Field   string   `json:"field"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Limit   any      `json:"limit"`
	Allowed []string `json:"allowed"`
}

// TestFieldProblemCodes sends representative bad requests, through each
// place field problems come from (the body schema, the strict decoder, the
// parameter schema, the domain's rules), and checks the code and the bound
// the named field comes back with.
func TestFieldProblemCodes(t *testing.T) {
	e := newEnv(t, sqliteURL(t), noRateLimit)
	k := newClinic(t, e)
	slot := k.slot(t, slotOpts{})
	body := requestBody(slot)
	admin := e.token(auth.RoleAdmin)
	day := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	far := time.Now().AddDate(0, 4, 0).Format(time.DateOnly)
	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		headers []string
		status  int
		field   string
		code    string
		limit   any    // nil: no limit sent
		allowed string // one of the values allowed must hold
	}{
		{"empty text", "POST", "/v1/booking-requests", with(body, "patient.first_name", ""), nil, 422, "patient.first_name", "required", nil, ""},
		{"only spaces", "POST", "/v1/booking-requests", with(body, "patient.first_name", "   "), nil, 422, "patient.first_name", "required", nil, ""},
		{"control character", "POST", "/v1/booking-requests", with(body, "patient.first_name", "A\tB"), nil, 422, "patient.first_name", "pattern", nil, ""},
		{"missing", "POST", "/v1/booking-requests", with(body, "patient.phone", remove), nil, 422, "patient.phone", "required", nil, ""},
		{"too long", "POST", "/v1/booking-requests", with(body, "patient.last_name", strings.Repeat("a", 101)), nil, 422, "patient.last_name", "too_long", 100.0, ""},
		{"too large", "POST", "/v1/booking-requests", with(body, "intake.pain_severity", 11), nil, 422, "intake.pain_severity", "too_large", 10.0, ""},
		{"too small", "POST", "/v1/booking-requests", with(body, "intake.pain_severity", -1), nil, 422, "intake.pain_severity", "too_small", 0.0, ""},
		{"wrong type", "POST", "/v1/booking-requests", with(body, "intake.pain_severity", "7"), nil, 422, "intake.pain_severity", "type", nil, ""},
		{"enum", "POST", "/v1/booking-requests", with(body, "intake.spasm_frequency", "hourly"), nil, 422, "intake.spasm_frequency", "enum", nil, "daily"},
		{"listed twice", "POST", "/v1/booking-requests", with(body, "intake.relieved_by", []string{"position", "position"}), nil, 422, "intake.relieved_by", "not_unique", nil, ""},
		{"unknown field", "POST", "/v1/booking-requests", with(body, "colour", "red"), nil, 422, "colour", "unknown_field", nil, ""},
		{"email format", "POST", "/v1/booking-requests", with(body, "patient.email", "ana at example"), nil, 422, "patient.email", "format", nil, ""},
		{"phone pattern", "POST", "/v1/booking-requests", with(body, "patient.phone", "12"), nil, 422, "patient.phone", "pattern", nil, ""},
		{"before 1900", "POST", "/v1/booking-requests", with(body, "patient.date_of_birth", "1899-12-31"), nil, 422, "patient.date_of_birth", "too_early", "1900-01-01", ""},
		{"onset before birth", "POST", "/v1/booking-requests", with(body, "intake.pain_started_on", "1979-01-01"), nil, 422, "intake.pain_started_on", "before_birth", nil, ""},
		{"consent", "POST", "/v1/booking-requests", with(body, "consent.privacy_policy_accepted", false), nil, 422, "consent.privacy_policy_accepted", "not_accepted", nil, ""},
		{"unknown slot", "POST", "/v1/booking-requests", with(body, "slot_id", "00000000-0000-4000-8000-000000000001"), nil, 422, "slot_id", "not_found", nil, ""},
		{"staff password", "POST", "/v1/staff", map[string]any{"email": "new@clinic.example", "name": "New", "role": "reception", "password": "short"},
			[]string{admin}, 422, "password", "too_short", 12.0, ""},
		{"staff role", "POST", "/v1/staff", map[string]any{"email": "new@clinic.example", "name": "New", "role": "owner", "password": "long enough password"},
			[]string{admin}, 422, "role", "enum", nil, "reception"},
		{"capacity", "POST", "/v1/slots", map[string]any{"provider_id": k.provider, "location_id": k.location, "consultation_type_id": k.reviewed,
			"start_at": time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339), "end_at": time.Now().Add(73 * time.Hour).UTC().Format(time.RFC3339), "capacity": 0},
			[]string{admin}, 422, "capacity", "too_small", 1.0, ""},
		{"query maximum", "GET", fmt.Sprintf("/v1/availability/next?consultation_type_id=%s&limit=51", k.reviewed), nil, nil, 400, "limit", "too_large", 50.0, ""},
		{"query unknown", "GET", "/v1/consultation-types?colour=red", nil, nil, 400, "colour", "unknown_field", nil, ""},
		{"query format", "GET", "/v1/availability?from=tomorrow&to=" + day + "&consultation_type_id=" + k.reviewed.String(), nil, nil, 400, "from", "format", nil, ""},
		{"range", "GET", "/v1/availability?from=" + day + "&to=" + far + "&consultation_type_id=" + k.reviewed.String(), nil, nil, 422, "to", "range_too_long", 62.0, ""},
		{"locale", "GET", "/v1/intake-form?locale=fr", nil, nil, 422, "locale", "enum", nil, "es"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body, tt.headers...)
			if r.Status != tt.status {
				t.Fatalf("got %d %s, want %d", r.Status, r.Body, tt.status)
			}
			var p struct {
				Errors []fieldProblem `json:"errors"`
			}
			r.decode(t, &p)
			i := slices.IndexFunc(p.Errors, func(f fieldProblem) bool { return f.Field == tt.field })
			if i < 0 {
				t.Fatalf("errors %+v do not name %s", p.Errors, tt.field)
			}
			got := p.Errors[i]
			if got.Code != tt.code {
				t.Errorf("%s: code got %q (%s), want %q", tt.field, got.Code, got.Message, tt.code)
			}
			if got.Limit != tt.limit {
				t.Errorf("%s: limit got %#v, want %#v", tt.field, got.Limit, tt.limit)
			}
			if tt.allowed != "" && !slices.Contains(got.Allowed, tt.allowed) {
				t.Errorf("%s: allowed got %v, want %q among them", tt.field, got.Allowed, tt.allowed)
			}
			if tt.allowed == "" && got.Allowed != nil {
				t.Errorf("%s: allowed got %v, want none", tt.field, got.Allowed)
			}
			for _, f := range p.Errors {
				if f.Code == "" {
					t.Errorf("%s has no code", f.Field)
				}
			}
		})
	}
}
