package booking_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/booking"
)

// TestParseRequestFieldCodes checks the code and bound the domain gives
// each rule a schema cannot state, and some it repeats.
func TestParseRequestFieldCodes(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	tests := []struct {
		name    string
		change  func(*booking.RequestInput)
		field   string
		code    booking.FieldCode
		limit   string // fmt.Sprint of Limit; "" for none
		allowed string // one of Allowed
	}{
		{"born today", func(in *booking.RequestInput) { in.Patient.DateOfBirth = "2026-11-20"; in.Intake.PainStartedOn = nil },
			"patient.date_of_birth", booking.FieldTooLate, "2026-11-19", ""},
		{"born 1899", func(in *booking.RequestInput) { in.Patient.DateOfBirth = "1899-12-31" },
			"patient.date_of_birth", booking.FieldTooEarly, "1900-01-01", ""},
		{"not a date", func(in *booking.RequestInput) { in.Patient.DateOfBirth = "02/04/1980" },
			"patient.date_of_birth", booking.FieldFormat, "", ""},
		{"onset before birth", func(in *booking.RequestInput) { in.Intake.PainStartedOn = ptr("1979-12-31") },
			"intake.pain_started_on", booking.FieldBeforeBirth, "", ""},
		{"onset tomorrow", func(in *booking.RequestInput) { in.Intake.PainStartedOn = ptr("2026-11-21") },
			"intake.pain_started_on", booking.FieldTooLate, "2026-11-20", ""},
		{"pain 11", func(in *booking.RequestInput) { in.Intake.PainSeverity = ptr(11) },
			"intake.pain_severity", booking.FieldTooLarge, "10", ""},
		{"pain -1", func(in *booking.RequestInput) { in.Intake.PainSeverity = ptr(-1) },
			"intake.pain_severity", booking.FieldTooSmall, "0", ""},
		{"reason 2001", func(in *booking.RequestInput) { in.Intake.Reason = ptr(strings.Repeat("r", 2001)) },
			"intake.reason", booking.FieldTooLong, "2000", ""},
		{"reason blank", func(in *booking.RequestInput) { in.Intake.Reason = ptr("  ") },
			"intake.reason", booking.FieldRequired, "", ""},
		{"name with a newline", func(in *booking.RequestInput) { in.Patient.LastName = "Lo\npez" },
			"patient.last_name", booking.FieldPattern, "", ""},
		{"spasm", func(in *booking.RequestInput) { in.Intake.SpasmFrequency = "hourly" },
			"intake.spasm_frequency", booking.FieldEnum, "", "daily"},
		{"relief", func(in *booking.RequestInput) { in.Intake.RelievedBy = []string{"yoga"} },
			"intake.relieved_by[0]", booking.FieldEnum, "", "massage"},
		{"duplicate", func(in *booking.RequestInput) { in.Intake.PreExistingConditions = []string{"scoliosis", "scoliosis"} },
			"intake.pre_existing_conditions[1]", booking.FieldNotUnique, "", ""},
		{"too many reliefs", func(in *booking.RequestInput) { in.Intake.RelievedBy = slices.Repeat([]string{"position"}, 1000) },
			"intake.relieved_by", booking.FieldTooMany, "8", ""},
		{"phone", func(in *booking.RequestInput) { in.Patient.Phone = "+123456" },
			"patient.phone", booking.FieldFormat, "", ""},
		{"consent", func(in *booking.RequestInput) { in.Consent.PrivacyPolicyAccepted = ptr(false) },
			"consent.privacy_policy_accepted", booking.FieldNotAccepted, "", ""},
		{"slot id", func(in *booking.RequestInput) { in.SlotID = "" },
			"slot_id", booking.FieldRequired, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.change(&in)
			_, err := booking.ParseRequest(in, now)
			var ve *booking.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			i := slices.IndexFunc(ve.Fields, func(f booking.FieldError) bool { return f.Field == tt.field })
			if i < 0 {
				t.Fatalf("got %v, want %s named", ve, tt.field)
			}
			got := ve.Fields[i]
			if got.Code != tt.code {
				t.Errorf("code: got %q, want %q", got.Code, tt.code)
			}
			limit := ""
			if got.Limit != nil {
				limit = fmt.Sprint(got.Limit)
			}
			if limit != tt.limit {
				t.Errorf("limit: got %q, want %q", limit, tt.limit)
			}
			if tt.allowed != "" && !slices.Contains(got.Allowed, tt.allowed) {
				t.Errorf("allowed: got %v, want %q among them", got.Allowed, tt.allowed)
			}
		})
	}
}

// TestFieldCodesUnique checks that the list names each code once.
func TestFieldCodesUnique(t *testing.T) {
	seen := map[booking.FieldCode]bool{}
	for _, c := range booking.FieldCodes() {
		if seen[c] {
			t.Errorf("FieldCodes lists %q twice", c)
		}
		seen[c] = true
	}
}
