package booking

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// TriageLevel is how soon a patient's answers say they need care.
type TriageLevel string

// Triage levels, least to most pressing.
const (
	TriageRoutine   TriageLevel = "routine"   // an ordinary booking
	TriageUrgent    TriageLevel = "urgent"    // accepted, staff alerted, first in their queue
	TriageEmergency TriageLevel = "emergency" // not booked: the patient is told to seek care now
)

func (l TriageLevel) rank() int {
	switch l {
	case TriageUrgent:
		return 1
	case TriageEmergency:
		return 2
	}
	return 0
}

// RedFlag is an answer to the red-flag question (intake.red_flags).
type RedFlag string

// RedFlag answers. RedFlagNone excludes the others.
const (
	RedFlagBladderBowelChange    RedFlag = "bladder_bowel_change"
	RedFlagSaddleNumbness        RedFlag = "saddle_numbness"
	RedFlagWorseningLegWeakness  RedFlag = "worsening_leg_weakness"
	RedFlagFeverOrUnwell         RedFlag = "fever_or_unwell"
	RedFlagRecentTrauma          RedFlag = "recent_trauma"
	RedFlagCancerHistory         RedFlag = "cancer_history"
	RedFlagUnexplainedWeightLoss RedFlag = "unexplained_weight_loss"
	RedFlagNone                  RedFlag = "none"
)

const (
	redFlagsField               = "intake.red_flags"
	maxTriageOverrideNoteLength = 1000
)

// RedFlags returns every RedFlag answer in the order the form shows them,
// RedFlagNone last.
func RedFlags() []RedFlag {
	return []RedFlag{RedFlagBladderBowelChange, RedFlagSaddleNumbness, RedFlagWorseningLegWeakness,
		RedFlagFeverOrUnwell, RedFlagRecentTrauma, RedFlagCancerHistory, RedFlagUnexplainedWeightLoss, RedFlagNone}
}

// triageRuleSpec is the language-free part of a rule: when the answer at
// field includes any of anyOf, the outcome is outcome.
type triageRuleSpec struct {
	id      string
	field   string
	anyOf   []RedFlag
	outcome TriageLevel
}

// triageSpecs are the clinic's triage rules, the one definition that
// GET /v1/intake-form serves and AssessTriage applies. They follow the
// red flags of the published low back pain guidance:
//
//   - NICE NG59 "Low back pain and sciatica in over 16s: assessment and
//     management" (2016, updated 2020), recommendation 1.1.1: exclude
//     alternative diagnoses (cancer, infection, trauma, inflammatory
//     disease such as spondyloarthritis);
//   - NICE CKS "Back pain - low (without radiculopathy)", "Red flags":
//     cauda equina syndrome (new bladder or bowel dysfunction, saddle
//     anaesthesia, severe or progressive neurological deficit in the legs:
//     emergency admission, same day), spinal infection (fever, feeling
//     unwell), spinal fracture (significant trauma), malignancy (a past
//     history of cancer, unexplained weight loss): urgent assessment;
//   - GIRFT "National suspected cauda equina syndrome pathway" (2023):
//     any suspicion of cauda equina syndrome needs an emergency MRI and
//     assessment the same day, so it is never a booking weeks away.
//
// The outcome of a set of answers is the most pressing outcome of the rules
// that fire, routine when none does. Change the wording in triageTexts;
// any change here or there gives the form a new version (IntakeFormVersion),
// and bookings keep the version they were answered under.
var triageSpecs = []triageRuleSpec{
	{id: "cauda_equina", field: redFlagsField, anyOf: []RedFlag{RedFlagBladderBowelChange, RedFlagSaddleNumbness}, outcome: TriageEmergency},
	{id: "progressive_neurological_deficit", field: redFlagsField, anyOf: []RedFlag{RedFlagWorseningLegWeakness}, outcome: TriageEmergency},
	{id: "possible_infection", field: redFlagsField, anyOf: []RedFlag{RedFlagFeverOrUnwell}, outcome: TriageUrgent},
	{id: "possible_fracture", field: redFlagsField, anyOf: []RedFlag{RedFlagRecentTrauma}, outcome: TriageUrgent},
	{id: "possible_malignancy", field: redFlagsField, anyOf: []RedFlag{RedFlagCancerHistory, RedFlagUnexplainedWeightLoss}, outcome: TriageUrgent},
	{id: "no_red_flags", field: redFlagsField, anyOf: []RedFlag{RedFlagNone}, outcome: TriageRoutine},
}

// triageTexts are what a patient reads when a rule fires, by locale and
// rule id: guidance, not a diagnosis. The clinic's own words go here.
var triageTexts = map[string]map[string]string{
	"en": {
		"cauda_equina": "Some of your answers can be a sign of a problem with the nerves at the base of the spine that needs to be checked today. " +
			"Please do not wait for an appointment: call the emergency services or go to the nearest emergency department now.",
		"progressive_neurological_deficit": "Weakness or numbness in the legs that is getting worse needs to be checked today. " +
			"Please do not wait for an appointment: call the emergency services or go to the nearest emergency department now.",
		"possible_infection": "Fever or feeling unwell together with back pain should be seen soon. We have marked your request as urgent " +
			"and the clinic will contact you. If you get worse, call the emergency services.",
		"possible_fracture": "Back pain after a fall or injury should be seen soon. We have marked your request as urgent " +
			"and the clinic will contact you. If you get worse, call the emergency services.",
		"possible_malignancy": "With your history, new back pain should be seen soon. We have marked your request as urgent " +
			"and the clinic will contact you.",
		"no_red_flags": "Thank you. Nothing in your answers needs more urgent care than a consultation.",
	},
	"es": {
		"cauda_equina": "Algunas de sus respuestas pueden indicar un problema en los nervios de la parte baja de la columna que debe revisarse hoy mismo. " +
			"No espere a una cita: llame a los servicios de emergencia o acuda ahora al servicio de urgencias más cercano.",
		"progressive_neurological_deficit": "La debilidad o el entumecimiento de las piernas que empeora debe revisarse hoy mismo. " +
			"No espere a una cita: llame a los servicios de emergencia o acuda ahora al servicio de urgencias más cercano.",
		"possible_infection": "La fiebre o el malestar general junto con dolor de espalda deben valorarse pronto. Hemos marcado su solicitud como urgente " +
			"y la clínica se pondrá en contacto con usted. Si empeora, llame a los servicios de emergencia.",
		"possible_fracture": "El dolor de espalda después de una caída o una lesión debe valorarse pronto. Hemos marcado su solicitud como urgente " +
			"y la clínica se pondrá en contacto con usted. Si empeora, llame a los servicios de emergencia.",
		"possible_malignancy": "Con sus antecedentes, un dolor de espalda nuevo debe valorarse pronto. Hemos marcado su solicitud como urgente " +
			"y la clínica se pondrá en contacto con usted.",
		"no_red_flags": "Gracias. Nada en sus respuestas requiere una atención más urgente que una consulta.",
	},
}

// TriageCondition is a rule's condition: the answer at Field includes any
// of AnyOf.
type TriageCondition struct {
	Field string   `json:"field"`
	AnyOf []string `json:"any_of"`
}

// TriageRule is one triage rule in one language.
type TriageRule struct {
	ID      string          `json:"id"`
	When    TriageCondition `json:"when"`
	Outcome TriageLevel     `json:"outcome"`
	Message string          `json:"message"`
}

// TriageRules returns the triage rules in locale (see PickLocale; an
// unknown one is English), in the order they are checked.
func TriageRules(locale string) []TriageRule {
	words, ok := triageTexts[locale]
	if !ok {
		words = triageTexts[Locales[0]]
	}
	out := make([]TriageRule, 0, len(triageSpecs))
	for _, r := range triageSpecs {
		out = append(out, TriageRule{
			ID: r.id, When: TriageCondition{Field: r.field, AnyOf: strs(r.anyOf)}, Outcome: r.outcome, Message: words[r.id],
		})
	}
	return out
}

// Triage is what the triage rules made of a booking's answers: its level
// and the ids of the rules at that level that fired.
type Triage struct {
	Level TriageLevel
	Rules []string
}

// AssessTriage applies the triage rules to the intake answers: the level is
// the most pressing outcome of the rules that fire (routine when none
// does), and Rules the ids of those with that outcome, in rule order.
func AssessTriage(in Intake) Triage {
	out := Triage{Level: TriageRoutine, Rules: []string{}}
	for _, r := range triageSpecs {
		if !slices.ContainsFunc(r.anyOf, func(f RedFlag) bool { return slices.Contains(in.RedFlags, f) }) {
			continue
		}
		switch {
		case r.outcome.rank() > out.Level.rank():
			out = Triage{Level: r.outcome, Rules: []string{r.id}}
		case r.outcome == out.Level:
			out.Rules = append(out.Rules, r.id)
		}
	}
	return out
}

// TriageMessage is the text a patient reads for t in locale: the messages
// of its rules, one paragraph each.
func TriageMessage(t Triage, locale string) string {
	words, ok := triageTexts[locale]
	if !ok {
		words = triageTexts[Locales[0]]
	}
	parts := make([]string, 0, len(t.Rules))
	for _, id := range t.Rules {
		if m := words[id]; m != "" && !slices.Contains(parts, m) {
			parts = append(parts, m)
		}
	}
	return strings.Join(parts, "\n\n")
}

// TriageOverride records that a staff member, booking by phone a caller
// whose answers are an emergency, advised emergency care and booked anyway
// (a follow-up after the emergency visit, say).
type TriageOverride struct {
	AdvisedEmergencyCare bool
	Note                 string
	StaffID              uuid.UUID
	At                   time.Time
}

// TriageOverrideInput is a triage_override as sent; nil fields were not
// sent.
type TriageOverrideInput struct {
	AdvisedEmergencyCare *bool
	Note                 *string
}

// ParseTriageOverride checks a staff triage override. It returns a
// *ValidationError naming triage_override.advised_emergency_care (must be
// true) or triage_override.note (at most 1000 characters).
func ParseTriageOverride(in TriageOverrideInput, staffID uuid.UUID, now time.Time) (*TriageOverride, error) {
	var p Problems
	p.Check(in.AdvisedEmergencyCare != nil && *in.AdvisedEmergencyCare, "triage_override.advised_emergency_care", FieldNotAccepted,
		"must be true: record that the caller was advised to seek emergency care")
	out := &TriageOverride{AdvisedEmergencyCare: true, StaffID: staffID, At: now}
	if in.Note != nil {
		out.Note = strings.TrimSpace(*in.Note)
		p.CheckLimit(utf8.RuneCountInString(out.Note) <= maxTriageOverrideNoteLength, "triage_override.note", FieldTooLong, maxTriageOverrideNoteLength, "must be at most 1000 characters")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// triageEmergency is the refusal of a request whose answers are an
// emergency: an *Error matching ErrTriageEmergency, carrying t.
func triageEmergency(t Triage) error {
	return &Error{Code: CodeTriageEmergency, Triage: &t,
		Message: "the answers suggest the patient needs emergency care today; no booking was made"}
}

// decideTriage applies the triage rules to a new booking's answers: an
// emergency is refused (ErrTriageEmergency) unless staff record an
// override, which books it marked urgent with the emergency rules; the
// booking records the outcome and the form version it was answered under.
func decideTriage(b *Booking, override *TriageOverride) error {
	t := AssessTriage(b.Intake)
	if t.Level == TriageEmergency {
		if override == nil || !override.AdvisedEmergencyCare {
			return triageEmergency(t)
		}
		t.Level = TriageUrgent
		b.TriageOverride = override
	}
	b.Triage = t
	b.IntakeFormVersion = IntakeFormVersion()
	return nil
}

// FlaggedEvent returns the EventFlagged that tells staff at once about a
// new urgent booking b, created by created, and false for any other.
func FlaggedEvent(b Booking, created Event) (Event, bool) {
	if b.Triage.Level != TriageUrgent {
		return Event{}, false
	}
	st := b.Status
	return Event{ID: NewID(), BookingID: b.ID, Actor: created.Actor, Type: EventFlagged, From: &st, To: st,
		Reason: "triage: " + strings.Join(b.Triage.Rules, ", "), At: created.At}, true
}

// IntakeFormDocument is the whole intake form, every language, questions
// and triage rules, as kept for each version: what a patient answered under.
type IntakeFormDocument struct {
	Version string                        `json:"version"`
	Locales map[string]IntakeFormInLocale `json:"locales"`
}

// IntakeFormInLocale is the intake form in one language.
type IntakeFormInLocale struct {
	Questions   []questionDoc `json:"questions"`
	TriageRules []TriageRule  `json:"triage_rules"`
}

type questionDoc struct {
	Field     string    `json:"field"`
	Type      string    `json:"type"`
	Required  bool      `json:"required"`
	Min       *int      `json:"min,omitempty"`
	Max       *int      `json:"max,omitempty"`
	MaxLength int       `json:"max_length,omitempty"`
	Options   []Option  `json:"options"`
	Exclusive string    `json:"exclusive_option,omitempty"`
	Label     string    `json:"label"`
	Help      string    `json:"help"`
	ShowWhen  *ShowWhen `json:"show_when,omitempty"`
}

var intakeFormDoc = sync.OnceValues(func() (string, []byte) {
	doc := IntakeFormDocument{Locales: map[string]IntakeFormInLocale{}}
	for _, l := range Locales {
		var in IntakeFormInLocale
		for _, q := range IntakeForm(l) {
			in.Questions = append(in.Questions, questionDoc{Field: q.Field, Type: string(q.Type), Required: q.Required,
				Min: q.Min, Max: q.Max, MaxLength: q.MaxLength, Options: q.Options, Exclusive: q.Exclusive, Label: q.Label, Help: q.Help, ShowWhen: q.ShowWhen})
		}
		in.TriageRules = TriageRules(l)
		doc.Locales[l] = in
	}
	body, err := json.Marshal(doc.Locales)
	if err != nil {
		panic("intake form document: " + err.Error())
	}
	sum := sha256.Sum256(body)
	doc.Version = hex.EncodeToString(sum[:6])
	full, err := json.Marshal(doc)
	if err != nil {
		panic("intake form document: " + err.Error())
	}
	return doc.Version, full
})

// IntakeFormVersion is the version of the intake form this build serves: a
// digest of its questions, options, wording and triage rules in every
// language, so any change to them is a new version by itself.
func IntakeFormVersion() string {
	v, _ := intakeFormDoc()
	return v
}

// IntakeFormJSON is the current intake form as IntakeFormDocument JSON,
// to keep beside its version.
func IntakeFormJSON() []byte {
	_, b := intakeFormDoc()
	return b
}
