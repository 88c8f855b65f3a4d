package booking_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// TestAssessTriage runs every rule's answers to their outcome: the spec's
// floor (bladder or bowel change and saddle numbness are emergencies; fever,
// trauma, cancer history and weight loss at least urgent), the most
// pressing rule winning, and "none" routine.
func TestAssessTriage(t *testing.T) {
	for _, tc := range []struct {
		flags     []booking.RedFlag
		wantLevel booking.TriageLevel
		wantRules []string
	}{
		{[]booking.RedFlag{"none"}, booking.TriageRoutine, []string{"no_red_flags"}},
		{nil, booking.TriageRoutine, []string{}},
		{[]booking.RedFlag{"bladder_bowel_change"}, booking.TriageEmergency, []string{"cauda_equina"}},
		{[]booking.RedFlag{"saddle_numbness"}, booking.TriageEmergency, []string{"cauda_equina"}},
		{[]booking.RedFlag{"worsening_leg_weakness"}, booking.TriageEmergency, []string{"progressive_neurological_deficit"}},
		{[]booking.RedFlag{"fever_or_unwell"}, booking.TriageUrgent, []string{"possible_infection"}},
		{[]booking.RedFlag{"recent_trauma"}, booking.TriageUrgent, []string{"possible_fracture"}},
		{[]booking.RedFlag{"cancer_history"}, booking.TriageUrgent, []string{"possible_malignancy"}},
		{[]booking.RedFlag{"unexplained_weight_loss"}, booking.TriageUrgent, []string{"possible_malignancy"}},
		{[]booking.RedFlag{"cancer_history", "unexplained_weight_loss"}, booking.TriageUrgent, []string{"possible_malignancy"}},
		{[]booking.RedFlag{"recent_trauma", "fever_or_unwell"}, booking.TriageUrgent, []string{"possible_infection", "possible_fracture"}},
		{[]booking.RedFlag{"recent_trauma", "saddle_numbness"}, booking.TriageEmergency, []string{"cauda_equina"}},
		{[]booking.RedFlag{"worsening_leg_weakness", "bladder_bowel_change", "cancer_history"}, booking.TriageEmergency,
			[]string{"cauda_equina", "progressive_neurological_deficit"}},
	} {
		got := booking.AssessTriage(booking.Intake{RedFlags: tc.flags})
		if got.Level != tc.wantLevel || !slices.Equal(got.Rules, tc.wantRules) {
			t.Errorf("AssessTriage(%v) = %s %v, want %s %v", tc.flags, got.Level, got.Rules, tc.wantLevel, tc.wantRules)
		}
	}
}

// TestTriageRulesCoverEveryFlag: every red flag but "none" fires a rule
// above routine, and every rule has its words in every language.
func TestTriageRulesCoverEveryFlag(t *testing.T) {
	for _, f := range booking.RedFlags() {
		got := booking.AssessTriage(booking.Intake{RedFlags: []booking.RedFlag{f}})
		if (f == booking.RedFlagNone) != (got.Level == booking.TriageRoutine) {
			t.Errorf("%s: level %s", f, got.Level)
		}
	}
	for _, l := range booking.Locales {
		rules := booking.TriageRules(l)
		if len(rules) == 0 {
			t.Fatalf("%s: no triage rules", l)
		}
		for _, r := range rules {
			if r.Message == "" || r.When.Field != "intake.red_flags" || len(r.When.AnyOf) == 0 {
				t.Errorf("%s rule %s = %+v: want a message and a condition on intake.red_flags", l, r.ID, r)
			}
		}
	}
	msg := booking.TriageMessage(booking.Triage{Level: booking.TriageEmergency, Rules: []string{"cauda_equina"}}, "es")
	if !strings.Contains(msg, "servicios de emergencia") {
		t.Errorf("Spanish emergency message = %q, want the emergency services named", msg)
	}
}

// TestPolicyTriage: the public request refuses emergency answers before
// looking at the slot, marks urgent ones, and records the form version; a
// phone booking follows the same rules unless staff record that they
// advised emergency care.
func TestPolicyTriage(t *testing.T) {
	now := instant(t, "2026-11-20T10:00:00Z")
	req, err := booking.ParseRequest(validInput(), now)
	if err != nil {
		t.Fatal(err)
	}
	withFlags := func(f ...booking.RedFlag) booking.Request {
		r := req
		r.Intake.RedFlags = f
		return r
	}
	p := booking.DefaultPolicy()
	info := booking.SlotInfo{ProviderActive: true, LocationActive: true, Type: booking.ConsultationType{Active: true},
		Slot: booking.Slot{ID: req.SlotID, Status: booking.SlotOpen, Capacity: 1, StartAt: now.Add(72 * time.Hour)}}

	_, _, _, err = p.PublicRequest(withFlags("saddle_numbness"), booking.SlotInfo{}, now)
	var de *booking.Error
	if !errors.Is(err, booking.ErrTriageEmergency) || !errors.As(err, &de) || de.Triage == nil ||
		!slices.Equal(de.Triage.Rules, []string{"cauda_equina"}) {
		t.Fatalf("public emergency: err = %v, want ErrTriageEmergency with rule cauda_equina (before the slot is judged)", err)
	}

	b, ev, _, err := p.PublicRequest(withFlags("fever_or_unwell"), info, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.Triage.Level, booking.TriageUrgent; got != want {
		t.Errorf("urgent level = %s, want %s", got, want)
	}
	if got, want := b.IntakeFormVersion, booking.IntakeFormVersion(); got != want || got == "" {
		t.Errorf("form version = %q, want %q", got, want)
	}
	if fl, ok := booking.FlaggedEvent(b, ev); !ok || fl.Type != booking.EventFlagged || fl.BookingID != b.ID {
		t.Errorf("FlaggedEvent(urgent) = %+v %v, want a flagged event", fl, ok)
	}
	routine, ev, _, err := p.PublicRequest(withFlags("none"), info, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := booking.FlaggedEvent(routine, ev); ok || routine.Triage.Level != booking.TriageRoutine {
		t.Errorf("routine: level %s, flagged %v; want routine, not flagged", routine.Triage.Level, ok)
	}

	staff := booking.StaffActor(uuid.New())
	in := booking.StaffBooking{Request: withFlags("bladder_bowel_change"), Status: booking.StatusConfirmed, Notes: "called"}
	if _, _, err := p.StaffRequest(in, staff, now); !errors.Is(err, booking.ErrTriageEmergency) {
		t.Errorf("staff emergency without override: err = %v, want ErrTriageEmergency", err)
	}
	over, err := booking.ParseTriageOverride(booking.TriageOverrideInput{AdvisedEmergencyCare: ptr(true), Note: ptr(" sent to A&E ")}, *staff.StaffID, now)
	if err != nil {
		t.Fatal(err)
	}
	in.Override = over
	b, _, err = p.StaffRequest(in, staff, now)
	if err != nil {
		t.Fatalf("staff emergency with override: %v", err)
	}
	if b.Triage.Level != booking.TriageUrgent || !slices.Equal(b.Triage.Rules, []string{"cauda_equina"}) ||
		b.TriageOverride == nil || b.TriageOverride.Note != "sent to A&E" || b.TriageOverride.StaffID != *staff.StaffID ||
		b.Notes != "called" || b.Source != booking.SourcePhone {
		t.Errorf("staff override booking = %+v %+v, want urgent with cauda_equina, the override and the notes", b.Triage, b.TriageOverride)
	}
	if _, err := booking.ParseTriageOverride(booking.TriageOverrideInput{AdvisedEmergencyCare: ptr(false)}, *staff.StaffID, now); err == nil {
		t.Error("override with advised_emergency_care false: no error")
	}
}

// TestIntakeFormVersion: the version is a digest of the whole form, kept
// with it.
func TestIntakeFormVersion(t *testing.T) {
	v := booking.IntakeFormVersion()
	if len(v) != 12 {
		t.Errorf("version = %q, want 12 hex digits", v)
	}
	doc := string(booking.IntakeFormJSON())
	for _, want := range []string{`"version":"` + v + `"`, `"triage_rules"`, `"cauda_equina"`, `"es"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("form document lacks %s", want)
		}
	}
}
