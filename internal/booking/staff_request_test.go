package booking_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// TestParseStaffRequest: on the phone only the red flags are required of
// the intake, given answers are still checked, and the consent is given by
// phone; the public parse is unchanged.
func TestParseStaffRequest(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	followUp := func() booking.RequestInput {
		in := validInput()
		in.Intake = booking.IntakeInput{RedFlags: []string{"none"}}
		in.Consent = booking.ConsentInput{GivenByPhone: ptr(true)}
		return in
	}
	tests := []struct {
		name  string
		edit  func(*booking.RequestInput)
		staff []string // fields ParseStaffRequest names
		web   []string // fields ParseRequest names
	}{
		{"follow-up caller", func(*booking.RequestInput) {}, nil,
			[]string{"consent.privacy_policy_accepted", "intake.pain_severity", "intake.reason", "intake.recent_physical_activity", "intake.spasm_frequency"}},
		{"web consent", func(in *booking.RequestInput) { in.Consent = booking.ConsentInput{PrivacyPolicyAccepted: ptr(true)} }, nil,
			[]string{"intake.pain_severity", "intake.reason", "intake.recent_physical_activity", "intake.spasm_frequency"}},
		{"no consent", func(in *booking.RequestInput) { in.Consent = booking.ConsentInput{} }, []string{"consent.given_by_phone"}, nil},
		{"no red flags", func(in *booking.RequestInput) { in.Intake.RedFlags = nil }, []string{"intake.red_flags"}, nil},
		{"pain 11", func(in *booking.RequestInput) { in.Intake.PainSeverity = ptr(11) }, []string{"intake.pain_severity"}, nil},
		{"blank reason", func(in *booking.RequestInput) { in.Intake.Reason = ptr(" ") }, []string{"intake.reason"}, nil},
		{"spasm hourly", func(in *booking.RequestInput) { in.Intake.SpasmFrequency = "hourly" }, []string{"intake.spasm_frequency"}, nil},
	}
	fields := func(err error) []string {
		var ve *booking.ValidationError
		if !errors.As(err, &ve) {
			return nil
		}
		var out []string
		for _, f := range ve.Fields {
			out = append(out, f.Field)
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := followUp()
			tt.edit(&in)
			r, err := booking.ParseStaffRequest(in, now)
			if got := fields(err); !slices.Equal(got, tt.staff) {
				t.Errorf("ParseStaffRequest fields: got %v (%v), want %v", got, err, tt.staff)
			}
			if err == nil && (!r.Consent.PrivacyPolicyAccepted || r.Intake.PainSeverity != nil || r.Intake.Reason != "") {
				t.Errorf("ParseStaffRequest: got consent %+v intake %+v", r.Consent, r.Intake)
			}
			if tt.web == nil {
				return
			}
			_, err = booking.ParseRequest(in, now)
			if got := fields(err); !slices.Equal(got, tt.web) {
				t.Errorf("ParseRequest fields: got %v, want %v", got, tt.web)
			}
		})
	}
}

// TestStaffRequestRecordsPhoneConsent: the booking records who took the
// consent on the phone and when.
func TestStaffRequestRecordsPhoneConsent(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	in := validInput()
	in.Intake = booking.IntakeInput{RedFlags: []string{"none"}}
	in.Consent = booking.ConsentInput{GivenByPhone: ptr(true)}
	req, err := booking.ParseStaffRequest(in, now)
	if err != nil {
		t.Fatal(err)
	}
	staff := uuid.New()
	b, _, err := booking.Policy{}.StaffRequest(booking.StaffBooking{Request: req, Status: booking.StatusConfirmed}, booking.StaffActor(staff), now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.Consent.ByPhone, (&booking.PhoneConsent{StaffID: staff, At: now}); got == nil || *got != *want {
		t.Errorf("ByPhone: got %+v, want %+v", got, want)
	}
}
