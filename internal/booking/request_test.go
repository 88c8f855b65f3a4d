package booking_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/clinic/consult/internal/booking"
)

func validInput() booking.RequestInput {
	return booking.RequestInput{
		SlotID: "0b6f2c1e-5d7a-4c1e-9a53-3f0c2d7e8a91",
		Patient: booking.PatientInput{
			FirstName: " Ana ", LastName: "Lopez", DateOfBirth: "1980-04-02",
			Phone: "+14245550123", Email: "ana@example.com",
		},
		Intake: booking.IntakeInput{
			RedFlags:     []string{"none"},
			PainSeverity: ptr(7), RelievedBy: []string{"heat_or_ice", "position"},
			PainStartedOn: ptr("2026-11-01"), PreExistingConditions: []string{"herniated_disc"},
			SpasmFrequency: "daily", RecentPhysicalActivity: ptr(true),
			ActivityDetails: ptr("moved house"), Reason: ptr("lower back spasms"),
		},
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: ptr(true), ContactBySMS: ptr(true)},
	}
}

func TestParseRequestValid(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	r, err := booking.ParseRequest(validInput(), now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.SlotID.String(), "0b6f2c1e-5d7a-4c1e-9a53-3f0c2d7e8a91"; got != want {
		t.Errorf("SlotID = %s, want %s", got, want)
	}
	if got, want := r.Patient.FirstName, "Ana"; got != want {
		t.Errorf("FirstName = %q, want %q (trimmed)", got, want)
	}
	if got, want := r.Patient.DateOfBirth.String(), "1980-04-02"; got != want {
		t.Errorf("DateOfBirth = %s, want %s", got, want)
	}
	in := r.Intake
	if in.PainSeverity == nil || *in.PainSeverity != 7 || !slices.Equal(in.RelievedBy, []booking.Relief{booking.ReliefHeatOrIce, booking.ReliefPosition}) ||
		in.PainStartedOn == nil || in.PainStartedOn.String() != "2026-11-01" || in.SpasmFrequency != booking.SpasmDaily ||
		in.RecentPhysicalActivity == nil || !*in.RecentPhysicalActivity || in.Reason != "lower back spasms" {
		t.Errorf("Intake = %+v", in)
	}
	if got, want := r.Consent, (booking.Consent{PrivacyPolicyAccepted: true, ContactBySMS: true}); got != want {
		t.Errorf("Consent = %+v, want %+v", got, want)
	}
}

// TestParseRequestEveryFieldBad proves that one request names every wrong
// field at once.
func TestParseRequestEveryFieldBad(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	in := booking.RequestInput{
		SlotID: "not-a-uuid",
		Patient: booking.PatientInput{
			FirstName: "   ", LastName: strings.Repeat("L", 101), DateOfBirth: "2030-01-01",
			Phone: "4245550123", Email: "Ana <ana@example.com>",
		},
		Intake: booking.IntakeInput{
			PainSeverity: ptr(11), RelievedBy: []string{"heat_or_ice", "yoga", "heat_or_ice"},
			PainStartedOn: ptr("2099-01-01"), PreExistingConditions: []string{"herniated_disc", "flat_feet"},
			SpasmFrequency: "often", RecentPhysicalActivity: nil,
			ActivityDetails: ptr(strings.Repeat("a", 1001)), Reason: ptr("  "),
		},
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: ptr(false)},
	}
	want := []string{
		"consent.privacy_policy_accepted",
		"intake.activity_details",
		"intake.pain_severity",
		"intake.pain_started_on",
		"intake.pre_existing_conditions[1]",
		"intake.reason",
		"intake.recent_physical_activity",
		"intake.red_flags",
		"intake.relieved_by[1]",
		"intake.relieved_by[2]",
		"intake.spasm_frequency",
		"patient.date_of_birth",
		"patient.email",
		"patient.first_name",
		"patient.last_name",
		"patient.phone",
		"slot_id",
	}
	_, err := booking.ParseRequest(in, now)
	if got := fields(t, err); !slices.Equal(got, want) {
		t.Errorf("fields:\n got %v\nwant %v", got, want)
	}
	if booking.CodeOf(err) != booking.CodeValidation {
		t.Errorf("CodeOf = %q, want %q", booking.CodeOf(err), booking.CodeValidation)
	}

	// An empty request names every required field.
	_, err = booking.ParseRequest(booking.RequestInput{}, now)
	want = []string{
		"consent.privacy_policy_accepted", "intake.pain_severity", "intake.reason",
		"intake.recent_physical_activity", "intake.red_flags", "intake.spasm_frequency", "patient.date_of_birth",
		"patient.first_name", "patient.last_name", "patient.phone", "slot_id",
	}
	if got := fields(t, err); !slices.Equal(got, want) {
		t.Errorf("empty request fields:\n got %v\nwant %v", got, want)
	}
}

func TestParseRequestEdges(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	tests := []struct {
		name   string
		change func(*booking.RequestInput)
		want   []string
	}{
		{"pain 0", func(in *booking.RequestInput) { in.Intake.PainSeverity = ptr(0) }, nil},
		{"pain 10", func(in *booking.RequestInput) { in.Intake.PainSeverity = ptr(10) }, nil},
		{"pain 11", func(in *booking.RequestInput) { in.Intake.PainSeverity = ptr(11) }, []string{"intake.pain_severity"}},
		{"pain -1", func(in *booking.RequestInput) { in.Intake.PainSeverity = ptr(-1) }, []string{"intake.pain_severity"}},
		{"born yesterday", func(in *booking.RequestInput) { in.Patient.DateOfBirth = "2026-11-19" }, []string{"intake.pain_started_on"}},
		{"born today", func(in *booking.RequestInput) {
			in.Patient.DateOfBirth = "2026-11-20"
			in.Intake.PainStartedOn = nil
		}, []string{"patient.date_of_birth"}},
		{"born 1900-01-01", func(in *booking.RequestInput) { in.Patient.DateOfBirth = "1900-01-01" }, nil},
		{"born 1899-12-31", func(in *booking.RequestInput) { in.Patient.DateOfBirth = "1899-12-31" }, []string{"patient.date_of_birth"}},
		{"dob not a date", func(in *booking.RequestInput) { in.Patient.DateOfBirth = "02/04/1980" }, []string{"patient.date_of_birth"}},
		{"pain started today", func(in *booking.RequestInput) { in.Intake.PainStartedOn = ptr("2026-11-20") }, nil},
		{"pain started tomorrow", func(in *booking.RequestInput) { in.Intake.PainStartedOn = ptr("2026-11-21") }, []string{"intake.pain_started_on"}},
		{"pain start not given", func(in *booking.RequestInput) { in.Intake.PainStartedOn = nil }, nil},
		{"pain start empty", func(in *booking.RequestInput) { in.Intake.PainStartedOn = ptr("") }, []string{"intake.pain_started_on"}},
		{"no reliefs, no conditions", func(in *booking.RequestInput) {
			in.Intake.RelievedBy, in.Intake.PreExistingConditions = nil, nil
		}, nil},
		{"every relief", func(in *booking.RequestInput) {
			in.Intake.RelievedBy = []string{"position", "pressure", "heat_or_ice", "massage", "foam_roller", "medication", "nothing", "other"}
		}, nil},
		{"too many reliefs", func(in *booking.RequestInput) {
			in.Intake.RelievedBy = slices.Repeat([]string{"position"}, 1000)
		}, []string{"intake.relieved_by"}},
		{"duplicate condition", func(in *booking.RequestInput) {
			in.Intake.PreExistingConditions = []string{"scoliosis", "scoliosis"}
		}, []string{"intake.pre_existing_conditions[1]"}},
		{"no activity is an answer", func(in *booking.RequestInput) { in.Intake.RecentPhysicalActivity = ptr(false) }, nil},
		{"no email", func(in *booking.RequestInput) { in.Patient.Email = "" }, nil},
		{"email without a dotted domain", func(in *booking.RequestInput) { in.Patient.Email = "ana@localhost" }, []string{"patient.email"}},
		{"two emails", func(in *booking.RequestInput) { in.Patient.Email = "a@example.com, b@example.com" }, []string{"patient.email"}},
		{"long email", func(in *booking.RequestInput) {
			in.Patient.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com"
		}, []string{"patient.email"}},
		{"phone with separators", func(in *booking.RequestInput) { in.Patient.Phone = "+1 (424) 555-0123" }, nil},
		{"phone too short", func(in *booking.RequestInput) { in.Patient.Phone = "+123456" }, []string{"patient.phone"}},
		{"phone starting with 0", func(in *booking.RequestInput) { in.Patient.Phone = "+04245550123" }, []string{"patient.phone"}},
		{"name of 100", func(in *booking.RequestInput) { in.Patient.LastName = strings.Repeat("é", 100) }, nil},
		{"name with a newline", func(in *booking.RequestInput) { in.Patient.LastName = "Lo\npez" }, []string{"patient.last_name"}},
		{"slot id with braces", func(in *booking.RequestInput) { in.SlotID = "{0b6f2c1e-5d7a-4c1e-9a53-3f0c2d7e8a91}" }, []string{"slot_id"}},
		{"consent missing", func(in *booking.RequestInput) { in.Consent.PrivacyPolicyAccepted = nil }, []string{"consent.privacy_policy_accepted"}},
		{"reason of 2000", func(in *booking.RequestInput) { in.Intake.Reason = ptr(strings.Repeat("r", 2000)) }, nil},
		{"reason of 2001", func(in *booking.RequestInput) { in.Intake.Reason = ptr(strings.Repeat("r", 2001)) }, []string{"intake.reason"}},
	}
	for _, tt := range tests {
		in := validInput()
		tt.change(&in)
		_, err := booking.ParseRequest(in, now)
		if got := fields(t, err); !slices.Equal(got, tt.want) {
			t.Errorf("%s: fields = %v, want %v", tt.name, got, tt.want)
		}
	}
}
