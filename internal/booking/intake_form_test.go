package booking_test

import (
	"strings"
	"testing"

	"github.com/clinic/consult/internal/booking"
)

// intakeSetters write one answer into a request; nil removes it. Every
// question of the form must have one, and every intake field must be a
// question: the test fails when a field is added to one but not the other.
var intakeSetters = map[string]func(in *booking.IntakeInput, v any){
	"intake.red_flags":     func(in *booking.IntakeInput, v any) { in.RedFlags = listOf(v) },
	"intake.pain_severity": func(in *booking.IntakeInput, v any) { in.PainSeverity = anyPtr[int](v) },
	"intake.relieved_by": func(in *booking.IntakeInput, v any) {
		in.RelievedBy = listOf(v)
	},
	"intake.pain_started_on": func(in *booking.IntakeInput, v any) { in.PainStartedOn = anyPtr[string](v) },
	"intake.pre_existing_conditions": func(in *booking.IntakeInput, v any) {
		in.PreExistingConditions = listOf(v)
	},
	"intake.spasm_frequency": func(in *booking.IntakeInput, v any) {
		s, _ := v.(string)
		in.SpasmFrequency = s
	},
	"intake.recent_physical_activity": func(in *booking.IntakeInput, v any) { in.RecentPhysicalActivity = anyPtr[bool](v) },
	"intake.activity_details":         func(in *booking.IntakeInput, v any) { in.ActivityDetails = anyPtr[string](v) },
	"intake.reason":                   func(in *booking.IntakeInput, v any) { in.Reason = anyPtr[string](v) },
}

func anyPtr[T any](v any) *T {
	if v == nil {
		return nil
	}
	x := v.(T)
	return &x
}

func listOf(v any) []string {
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return v.([]string)
}

// fieldErrors returns the fields ParseRequest names for in.
func fieldErrors(t *testing.T, in booking.RequestInput) map[string]bool {
	t.Helper()
	now := instant(t, "2026-11-20T10:00:00Z")
	_, err := booking.ParseRequest(in, now)
	out := map[string]bool{}
	if err == nil {
		return out
	}
	ve, ok := err.(*booking.ValidationError)
	if !ok {
		t.Fatalf("ParseRequest error %T %v, want *ValidationError", err, err)
	}
	for _, f := range ve.Fields {
		out[strings.TrimRight(strings.TrimRight(f.Field, "]0123456789"), "[")] = true
	}
	return out
}

// TestIntakeFormAgreesWithValidation proves that the form GET
// /v1/intake-form serves and ParseRequest agree on every question: which
// are required, every bound and every option.
func TestIntakeFormAgreesWithValidation(t *testing.T) {
	form := booking.IntakeForm("en")
	if got, want := len(form), len(intakeSetters); got != want {
		t.Fatalf("the form has %d questions, the request %d intake fields", got, want)
	}
	with := func(field string, v any) booking.RequestInput {
		in := validInput()
		intakeSetters[field](&in.Intake, v)
		return in
	}
	check := func(field, what string, in booking.RequestInput, wantErr bool) {
		t.Helper()
		if got := fieldErrors(t, in)[field]; got != wantErr {
			t.Errorf("%s %s: error on the field = %v, want %v", field, what, got, wantErr)
		}
	}
	for _, q := range form {
		if _, ok := intakeSetters[q.Field]; !ok {
			t.Fatalf("form question %s is not an intake field of the request", q.Field)
		}
		check(q.Field, "left out", with(q.Field, nil), q.Required)
		switch q.Type {
		case booking.QuestionScale:
			if q.Min == nil || q.Max == nil {
				t.Fatalf("%s: scale without bounds", q.Field)
			}
			check(q.Field, "at min", with(q.Field, *q.Min), false)
			check(q.Field, "at max", with(q.Field, *q.Max), false)
			check(q.Field, "below min", with(q.Field, *q.Min-1), true)
			check(q.Field, "above max", with(q.Field, *q.Max+1), true)
		case booking.QuestionSingleChoice, booking.QuestionMultiChoice:
			if len(q.Options) == 0 {
				t.Fatalf("%s: no options", q.Field)
			}
			for _, o := range q.Options {
				check(q.Field, "= "+o.Value, with(q.Field, o.Value), false)
			}
			check(q.Field, "= an unknown value", with(q.Field, "not_an_option"), true)
			if q.Type == booking.QuestionMultiChoice {
				var all, others []string
				for _, o := range q.Options {
					all = append(all, o.Value)
					if o.Value != q.Exclusive {
						others = append(others, o.Value)
					}
				}
				if q.Exclusive != "" {
					check(q.Field, "= every option but the exclusive one", with(q.Field, others), false)
					check(q.Field, "= the exclusive option and another", with(q.Field, []string{q.Exclusive, others[0]}), true)
				}
				check(q.Field, "= every option", with(q.Field, all), q.Exclusive != "")
			}
		case booking.QuestionText:
			if q.MaxLength <= 0 {
				t.Fatalf("%s: text without a length bound", q.Field)
			}
			check(q.Field, "at the length bound", with(q.Field, strings.Repeat("a", q.MaxLength)), false)
			check(q.Field, "over the length bound", with(q.Field, strings.Repeat("a", q.MaxLength+1)), true)
		case booking.QuestionDate:
			check(q.Field, "= a date", with(q.Field, "2026-11-01"), false)
			check(q.Field, "= not a date", with(q.Field, "yesterday"), true)
		case booking.QuestionBoolean:
			check(q.Field, "= false", with(q.Field, false), false)
			check(q.Field, "= true", with(q.Field, true), false)
		default:
			t.Errorf("%s: unknown type %q", q.Field, q.Type)
		}
	}
}

func TestIntakeFormLocales(t *testing.T) {
	for _, l := range booking.Locales {
		for _, q := range booking.IntakeForm(l) {
			if q.Label == "" {
				t.Errorf("%s %s: no label", l, q.Field)
			}
			for _, o := range q.Options {
				if o.Label == "" {
					t.Errorf("%s %s option %s: no label", l, q.Field, o.Value)
				}
			}
		}
	}
	es := booking.IntakeForm("es")
	if got, want := es[1].Label, "¿Qué intensidad tiene su dolor?"; got != want {
		t.Errorf("es first label = %q, want %q", got, want)
	}
	for _, q := range es {
		if q.Field == "intake.activity_details" {
			if q.ShowWhen == nil || q.ShowWhen.Field != "intake.recent_physical_activity" || !q.ShowWhen.Equals {
				t.Errorf("activity_details condition = %+v, want shown when recent_physical_activity is true", q.ShowWhen)
			}
		}
	}
}

func TestPickLocale(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{""}, "en"},
		{[]string{"es"}, "es"},
		{[]string{"", "es-MX,es;q=0.9,en;q=0.8"}, "es"},
		{[]string{"fr-FR,fr;q=0.9,es;q=0.5"}, "es"},
		{[]string{"de"}, "en"},
		{[]string{"en", "es"}, "en"},
	} {
		if got := booking.PickLocale(tc.in...); got != tc.want {
			t.Errorf("PickLocale(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
