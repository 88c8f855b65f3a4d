package booking

import (
	"strings"
)

// QuestionType is how a front end asks an intake question.
type QuestionType string

// Question types of the intake form.
const (
	QuestionScale        QuestionType = "scale"         // a whole number from Min to Max
	QuestionMultiChoice  QuestionType = "multi_choice"  // any of Options, each once
	QuestionSingleChoice QuestionType = "single_choice" // one of Options
	QuestionDate         QuestionType = "date"          // YYYY-MM-DD
	QuestionBoolean      QuestionType = "boolean"       // yes or no
	QuestionText         QuestionType = "text"          // free text of at most MaxLength characters
)

// Option is one answer of a choice question: the value sent and its label.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// ShowWhen makes a question depend on another: it is shown (and its answer
// kept) only while the question at Field has the answer Equals.
type ShowWhen struct {
	Field  string `json:"field"`
	Equals bool   `json:"equals"`
}

// Question is one intake question as a front end renders it, in one
// language.
type Question struct {
	Field     string // JSON path in the booking request, such as intake.pain_severity
	Type      QuestionType
	Required  bool
	Min, Max  *int // scale bounds
	MaxLength int  // text: at most this many characters; 0 for other types
	Options   []Option
	Exclusive string // multi_choice: the option that excludes every other ("none"); "" for none
	Label     string
	Help      string
	ShowWhen  *ShowWhen
}

// Locales the intake form is written in; the first is the default.
var Locales = []string{"en", "es"}

// PickLocale returns the first of the wanted languages that the form is
// written in, as the primary subtag ("es" for "es-MX"), or "en". wanted is a
// ?locale= value or an Accept-Language header ("es-MX,es;q=0.9,en;q=0.8");
// quality values are not weighed, the order is.
func PickLocale(wanted ...string) string {
	for _, w := range wanted {
		for _, part := range strings.Split(w, ",") {
			tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
			primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
			for _, l := range Locales {
				if primary == l {
					return l
				}
			}
		}
	}
	return Locales[0]
}

// Bounds of the intake answers, used by the form and by ParseRequest.
const (
	MinPainSeverity = 0
	MaxPainSeverity = 10
)

// questionSpec is the language-free part of a question: what ParseRequest
// checks. intakeSpecs is the one definition both the form and the
// validation read.
type questionSpec struct {
	field     string
	typ       QuestionType
	required  bool
	min, max  *int
	maxLength int
	options   []string
	exclusive string
	showWhen  *ShowWhen
}

func intPtr(n int) *int { return &n }

var intakeSpecs = []questionSpec{
	// The red flags come first: an answer that needs care today should
	// stop the form before the patient describes anything else (see
	// triageSpecs for the rules and the guidance they follow).
	{field: redFlagsField, typ: QuestionMultiChoice, required: true, options: strs(RedFlags()), exclusive: string(RedFlagNone)},
	{field: "intake.pain_severity", typ: QuestionScale, required: true, min: intPtr(MinPainSeverity), max: intPtr(MaxPainSeverity)},
	{field: "intake.relieved_by", typ: QuestionMultiChoice, options: strs(Reliefs())},
	{field: "intake.pain_started_on", typ: QuestionDate},
	{field: "intake.pre_existing_conditions", typ: QuestionMultiChoice, options: strs(Conditions())},
	{field: "intake.spasm_frequency", typ: QuestionSingleChoice, required: true, options: strs(SpasmFrequencies())},
	{field: "intake.recent_physical_activity", typ: QuestionBoolean, required: true},
	{field: "intake.activity_details", typ: QuestionText, maxLength: MaxActivityDetailsLength,
		showWhen: &ShowWhen{Field: "intake.recent_physical_activity", Equals: true}},
	{field: "intake.reason", typ: QuestionText, required: true, maxLength: MaxIntakeReasonLength},
}

func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

// intakeSpec returns the definition of field; it panics for a field the
// form does not have, which is a programming error caught by any test.
func intakeSpec(field string) questionSpec {
	for _, q := range intakeSpecs {
		if q.field == field {
			return q
		}
	}
	panic("intake form has no question " + field)
}

// texts are the words of one question in one language: label, help, and
// the label of each option by value.
type texts struct {
	label, help string
	options     map[string]string
}

var intakeTexts = map[string]map[string]texts{
	"en": {
		redFlagsField: {label: "Do you have any of these now?",
			help: "Choose all that apply, or \"None of these\". These questions help us see whether you need care sooner than a consultation.",
			options: map[string]string{
				"bladder_bowel_change":    "New trouble passing or controlling urine or stools",
				"saddle_numbness":         "Numbness around the genitals or back passage",
				"worsening_leg_weakness":  "Weakness or numbness in one or both legs that is getting worse",
				"fever_or_unwell":         "Fever, or feeling generally unwell, with the back pain",
				"recent_trauma":           "A recent fall or injury",
				"cancer_history":          "Cancer now or in the past",
				"unexplained_weight_loss": "Weight loss you cannot explain",
				"none":                    "None of these",
			}},
		"intake.pain_severity": {label: "How strong is your pain?", help: "0 is no pain, 10 the worst you can imagine."},
		"intake.relieved_by": {label: "What relieves the pain?", help: "Choose all that apply.", options: map[string]string{
			"position": "Changing position", "pressure": "Pressure", "heat_or_ice": "Heat or ice", "massage": "Massage",
			"foam_roller": "Foam roller", "medication": "Medication", "nothing": "Nothing helps", "other": "Something else"}},
		"intake.pain_started_on": {label: "When did the pain start?", help: "An approximate date is fine."},
		"intake.pre_existing_conditions": {label: "Do you have any of these conditions?", help: "Choose all that apply.", options: map[string]string{
			"herniated_disc": "Herniated disc", "spinal_arthritis": "Spinal arthritis", "spinal_stenosis": "Spinal stenosis",
			"scoliosis": "Scoliosis", "prior_spine_surgery": "Previous spine surgery", "osteoporosis": "Osteoporosis", "other": "Another condition"}},
		"intake.spasm_frequency": {label: "How often do you have spasms?", options: map[string]string{
			"rarely": "Rarely", "monthly": "About monthly", "weekly": "About weekly", "daily": "Daily", "constant": "Constantly"}},
		"intake.recent_physical_activity": {label: "Have you done heavy physical activity or labour recently?"},
		"intake.activity_details":         {label: "What was the activity?", help: "For example: moved house, started running."},
		"intake.reason":                   {label: "Why are you booking this consultation?", help: "In your own words."},
	},
	"es": {
		redFlagsField: {label: "¿Tiene ahora alguno de estos síntomas?",
			help: "Marque todas las opciones que correspondan, o «Ninguno de estos». Estas preguntas nos ayudan a saber si necesita atención antes que una consulta.",
			options: map[string]string{
				"bladder_bowel_change":    "Dificultad nueva para orinar o defecar, o para controlar la orina o las heces",
				"saddle_numbness":         "Entumecimiento alrededor de los genitales o del ano",
				"worsening_leg_weakness":  "Debilidad o entumecimiento en una o ambas piernas que va empeorando",
				"fever_or_unwell":         "Fiebre o malestar general junto con el dolor de espalda",
				"recent_trauma":           "Una caída o lesión reciente",
				"cancer_history":          "Cáncer actual o en el pasado",
				"unexplained_weight_loss": "Pérdida de peso sin causa conocida",
				"none":                    "Ninguno de estos",
			}},
		"intake.pain_severity": {label: "¿Qué intensidad tiene su dolor?", help: "0 es sin dolor, 10 el peor dolor imaginable."},
		"intake.relieved_by": {label: "¿Qué le alivia el dolor?", help: "Marque todas las opciones que correspondan.", options: map[string]string{
			"position": "Cambiar de postura", "pressure": "Presión", "heat_or_ice": "Calor o hielo", "massage": "Masaje",
			"foam_roller": "Rodillo de espuma", "medication": "Medicación", "nothing": "Nada me alivia", "other": "Otra cosa"}},
		"intake.pain_started_on": {label: "¿Cuándo empezó el dolor?", help: "Una fecha aproximada es suficiente."},
		"intake.pre_existing_conditions": {label: "¿Tiene alguna de estas afecciones?", help: "Marque todas las opciones que correspondan.", options: map[string]string{
			"herniated_disc": "Hernia discal", "spinal_arthritis": "Artrosis de columna", "spinal_stenosis": "Estenosis espinal",
			"scoliosis": "Escoliosis", "prior_spine_surgery": "Cirugía de columna previa", "osteoporosis": "Osteoporosis", "other": "Otra afección"}},
		"intake.spasm_frequency": {label: "¿Con qué frecuencia tiene espasmos?", options: map[string]string{
			"rarely": "Rara vez", "monthly": "Más o menos cada mes", "weekly": "Más o menos cada semana", "daily": "A diario", "constant": "Constantemente"}},
		"intake.recent_physical_activity": {label: "¿Ha hecho recientemente actividad física intensa o trabajo pesado?"},
		"intake.activity_details":         {label: "¿Qué actividad fue?", help: "Por ejemplo: una mudanza, empezar a correr."},
		"intake.reason":                   {label: "¿Por qué reserva esta consulta?", help: "Con sus propias palabras."},
	},
}

// IntakeForm returns the intake questions in locale (see PickLocale; an
// unknown one is English), in the order a form asks them. The questions,
// their types, bounds and options are the ones ParseRequest checks.
func IntakeForm(locale string) []Question {
	words, ok := intakeTexts[locale]
	if !ok {
		words = intakeTexts[Locales[0]]
	}
	out := make([]Question, 0, len(intakeSpecs))
	for _, s := range intakeSpecs {
		t := words[s.field]
		q := Question{
			Field: s.field, Type: s.typ, Required: s.required, Min: s.min, Max: s.max, MaxLength: s.maxLength,
			Exclusive: s.exclusive, Label: t.label, Help: t.help, ShowWhen: s.showWhen,
		}
		for _, v := range s.options {
			q.Options = append(q.Options, Option{Value: v, Label: t.options[v]})
		}
		out = append(out, q)
	}
	return out
}
