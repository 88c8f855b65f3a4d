package booking

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// RequestInput is a booking request as the HTTP layer decoded it, before any
// check: strings as sent, and nil pointers for fields not sent, so that
// "missing" and "zero" can be told apart.
type RequestInput struct {
	SlotID  string
	Patient PatientInput
	Intake  IntakeInput
	Consent ConsentInput
}

// PatientInput is the raw "patient" object of a booking request.
type PatientInput struct {
	FirstName, LastName, DateOfBirth, Phone, Email string
}

// IntakeInput is the raw "intake" object of a booking request.
type IntakeInput struct {
	RedFlags               []string
	PainSeverity           *int
	RelievedBy             []string
	PainStartedOn          *string
	PreExistingConditions  []string
	SpasmFrequency         string
	RecentPhysicalActivity *bool
	ActivityDetails        *string
	Reason                 *string
}

// ConsentInput is the raw "consent" object of a booking request.
// GivenByPhone is for phone bookings only (ParseStaffRequest); ParseRequest
// ignores it.
type ConsentInput struct {
	PrivacyPolicyAccepted *bool
	GivenByPhone          *bool
	ContactBySMS          *bool
	ContactByEmail        *bool
}

// Request is a checked booking request: what ParseRequest returns.
type Request struct {
	SlotID  uuid.UUID
	Patient Patient
	Intake  Intake
	Consent Consent
}

// Field limits of a booking request.
const (
	MaxNameLength            = 100
	MaxEmailLength           = 254
	MaxActivityDetailsLength = 1000
	MaxIntakeReasonLength    = 2000
)

// earliestDate is the earliest date of birth or pain start taken: anything
// before is a typing mistake.
var earliestDate = Date{Year: 1900, Month: time.January, Day: 1}

// ParseRequest checks a booking request received at now and returns it
// trimmed and normalised. "Today" is now's date in now's location.
//
// It returns one *ValidationError naming every wrong field by its JSON path:
// slot_id (a UUID); patient.first_name and patient.last_name (required, at
// most 100 characters); patient.date_of_birth (required, before today, not
// before 1900); patient.phone (required, E.164); patient.email (optional, a
// plain address of at most 254 characters); intake.pain_severity (required,
// 0 to 10); intake.relieved_by[i] and intake.pre_existing_conditions[i]
// (known answers, each once); intake.pain_started_on (optional date, not in
// the future, not before the date of birth); intake.red_flags (required,
// known answers, each once, "none" alone); intake.spasm_frequency
// (required); intake.recent_physical_activity (required);
// intake.activity_details (at most 1000 characters); intake.reason
// (required, at most 2000 characters); consent.privacy_policy_accepted (must
// be true).
func ParseRequest(in RequestInput, now time.Time) (Request, error) {
	return parseRequest(in, now, false)
}

// ParseStaffRequest checks a phone booking received at now: the checks of
// ParseRequest, except that of the intake only intake.red_flags is
// required (triage needs it; every other answer is checked when given, so
// a follow-up caller need not answer the whole web form again), and that
// the privacy consent is given on the phone: consent.given_by_phone true
// (or, as older staff clients send, consent.privacy_policy_accepted true),
// else consent.given_by_phone is named. Policy.StaffRequest records who
// took the consent and when. The errors are ParseRequest's.
func ParseStaffRequest(in RequestInput, now time.Time) (Request, error) {
	return parseRequest(in, now, true)
}

func parseRequest(in RequestInput, now time.Time, byPhone bool) (Request, error) {
	var p Problems
	var r Request
	today := DateOf(now, now.Location())

	if in.SlotID == "" {
		p.Add("slot_id", FieldRequired, "is required")
	} else if id, err := ParseID(in.SlotID); p.Check(err == nil, "slot_id", FieldFormat, "must be a UUID") {
		r.SlotID = id
	}
	r.Patient = parsePatient(&p, in.Patient, today)
	r.Intake = parseIntake(&p, in.Intake, today, r.Patient.DateOfBirth, byPhone)
	r.Consent = parseConsent(&p, in.Consent, byPhone)

	if err := p.Err(); err != nil {
		return Request{}, err
	}
	return r, nil
}

func parsePatient(p *Problems, in PatientInput, today Date) Patient {
	out := Patient{
		FirstName: strings.TrimSpace(in.FirstName),
		LastName:  strings.TrimSpace(in.LastName),
		Email:     strings.TrimSpace(in.Email),
	}
	checkText(p, "patient.first_name", out.FirstName, true, MaxNameLength, false)
	checkText(p, "patient.last_name", out.LastName, true, MaxNameLength, false)

	const dob = "patient.date_of_birth"
	if in.DateOfBirth == "" {
		p.Add(dob, FieldRequired, "is required")
	} else if d, err := ParseDate(in.DateOfBirth); err != nil {
		p.Add(dob, FieldFormat, err.Error())
	} else if p.CheckLimit(d.Before(today), dob, FieldTooLate, today.AddDays(-1), "must be in the past") &&
		p.CheckLimit(!d.Before(earliestDate), dob, FieldTooEarly, earliestDate, "must not be before 1900-01-01") {
		out.DateOfBirth = d
	}

	if in.Phone == "" {
		p.Add("patient.phone", FieldRequired, "is required")
	} else if v, ok := NormalizePhone(in.Phone); p.Check(ok, "patient.phone", FieldFormat, phoneMessage) {
		out.Phone = v
	}
	if out.Email != "" {
		p.Check(ValidEmail(out.Email), "patient.email", FieldFormat, emailMessage)
	}
	return out
}

// parseIntake checks the intake answers against the intake form's
// definition (intakeSpecs: which are required, the bounds, the options), so
// that the form GET /v1/intake-form serves and this check cannot disagree;
// dob is the zero Date when the date of birth was wrong, and then the pain
// start is not compared with it. With partial (a phone booking) only the
// red flags are required.
func parseIntake(p *Problems, in IntakeInput, today, dob Date, partial bool) Intake {
	var out Intake
	// required reports whether q must be answered: as the form says, but on
	// the phone only the red flags, which triage needs.
	required := func(q questionSpec) bool { return q.required && (!partial || q.field == redFlagsField) }
	flags := intakeSpec(redFlagsField)
	out.RedFlags = typedSlice[RedFlag](parseAnswers(p, flags.field, in.RedFlags, flags.options))
	switch {
	case len(in.RedFlags) == 0:
		p.Check(!required(flags), flags.field, FieldRequired, `is required: choose every answer that applies, or ["none"]`)
	case slices.Contains(out.RedFlags, RedFlag(flags.exclusive)) && len(out.RedFlags) > 1:
		p.Add(flags.field, FieldConflict, fmt.Sprintf("%q cannot be chosen together with another answer", flags.exclusive))
	}
	pain := intakeSpec("intake.pain_severity")
	if in.PainSeverity == nil {
		p.Check(!required(pain), pain.field, FieldRequired, "is required")
	} else if msg := fmt.Sprintf("must be between %d and %d", *pain.min, *pain.max); p.CheckLimit(*in.PainSeverity >= *pain.min, pain.field, FieldTooSmall, *pain.min, msg) &&
		p.CheckLimit(*in.PainSeverity <= *pain.max, pain.field, FieldTooLarge, *pain.max, msg) {
		v := *in.PainSeverity
		out.PainSeverity = &v
	}
	relief := intakeSpec("intake.relieved_by")
	out.RelievedBy = typedSlice[Relief](parseAnswers(p, relief.field, in.RelievedBy, relief.options))
	cond := intakeSpec("intake.pre_existing_conditions")
	out.PreExistingConditions = typedSlice[Condition](parseAnswers(p, cond.field, in.PreExistingConditions, cond.options))

	if in.PainStartedOn != nil {
		f := intakeSpec("intake.pain_started_on").field
		if d, err := ParseDate(*in.PainStartedOn); err != nil {
			p.Add(f, FieldFormat, err.Error())
		} else if p.CheckLimit(!d.After(today), f, FieldTooLate, today, "must not be in the future") &&
			p.CheckLimit(!d.Before(earliestDate), f, FieldTooEarly, earliestDate, "must not be before 1900-01-01") &&
			p.Check(dob.IsZero() || !d.Before(dob), f, FieldBeforeBirth, "must not be before the date of birth") {
			out.PainStartedOn = &d
		}
	}

	spasm := intakeSpec("intake.spasm_frequency")
	switch {
	case in.SpasmFrequency == "":
		p.Check(!required(spasm), spasm.field, FieldRequired, "is required")
	case slices.Contains(spasm.options, in.SpasmFrequency):
		out.SpasmFrequency = SpasmFrequency(in.SpasmFrequency)
	default:
		p.AddEnum(spasm.field, spasm.options, "must be one of "+joinValues(spasm.options))
	}

	activity := intakeSpec("intake.recent_physical_activity")
	if in.RecentPhysicalActivity != nil {
		v := *in.RecentPhysicalActivity
		out.RecentPhysicalActivity = &v
	} else {
		p.Check(!required(activity), activity.field, FieldRequired, "is required")
	}
	details := intakeSpec("intake.activity_details")
	if in.ActivityDetails != nil {
		out.ActivityDetails = strings.TrimSpace(*in.ActivityDetails)
		checkText(p, details.field, out.ActivityDetails, required(details), details.maxLength, true)
	}
	reason := intakeSpec("intake.reason")
	if in.Reason != nil {
		out.Reason = strings.TrimSpace(*in.Reason)
		// Sent, it must say something, on the phone too.
		checkText(p, reason.field, out.Reason, true, reason.maxLength, true)
	} else {
		p.Check(!required(reason), reason.field, FieldRequired, "is required")
	}
	return out
}

func typedSlice[T ~string](in []string) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = T(v)
	}
	return out
}

// parseAnswers checks a multiple-choice answer: each item one of valid, and
// none twice. It returns a non-nil slice, so that "none" is [] in JSON.
func parseAnswers[T ~string](p *Problems, field string, in []string, valid []T) []T {
	out := make([]T, 0, len(in))
	if len(in) > len(valid) {
		// More items than choices means duplicates; one message is enough,
		// rather than one per item of a possibly huge list.
		p.AddLimit(field, FieldTooMany, len(valid), fmt.Sprintf("must have at most %d answers, each once", len(valid)))
		return out
	}
	for i, s := range in {
		v := T(s)
		item := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !slices.Contains(valid, v):
			p.AddEnum(item, stringSlice(valid), "must be one of "+joinValues(valid))
		case slices.Contains(out, v):
			p.Add(item, FieldNotUnique, "is listed twice")
		default:
			out = append(out, v)
		}
	}
	return out
}

// ParseID parses a UUID in its canonical 36-character form, such as
// 0b6f2c1e-5d7a-4c1e-9a53-3f0c2d7e8a91. It returns an error for anything
// else: uuid.Parse also takes braces, "urn:uuid:" and no hyphens, which
// would give one resource several spellings.
func ParseID(s string) (uuid.UUID, error) {
	if len(s) != 36 {
		return uuid.Nil, errors.New("must be a UUID")
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, errors.New("must be a UUID")
	}
	return id, nil
}

const (
	phoneMessage = "must be a phone number in international E.164 form, such as +14245550123"
	emailMessage = "must be a plain email address, such as ana@example.com"
)

var (
	e164 = regexp.MustCompile(`^\+[1-9]\d{6,14}$`)
	// phoneSeparators are what people type between digit groups; they are
	// dropped so that "+1 (424) 555-0123" is stored as +14245550123.
	phoneSeparators = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "")
)

// NormalizePhone returns s in E.164 form (+, country code, number; 8 to 16
// characters) with spaces, hyphens, dots and parentheses dropped, and
// ok=false when that is not a phone number.
func NormalizePhone(s string) (string, bool) {
	v := phoneSeparators.Replace(strings.TrimSpace(s))
	if !e164.MatchString(v) {
		return "", false
	}
	return v, true
}

// ValidEmail reports whether s is one plain address (no display name, no
// angle brackets, no comments) of at most 254 characters with a dotted
// domain, as mail systems deliver to.
func ValidEmail(s string) bool {
	if utf8.RuneCountInString(s) > MaxEmailLength {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// parseConsent reads the consent boxes: on the web the privacy policy must
// be accepted; by phone (byPhone) the staff member records that the caller
// agreed (given_by_phone, or privacy_policy_accepted from older clients).
func parseConsent(p *Problems, in ConsentInput, byPhone bool) Consent {
	yes := func(b *bool) bool { return b != nil && *b }
	c := Consent{
		PrivacyPolicyAccepted: yes(in.PrivacyPolicyAccepted),
		ContactBySMS:          yes(in.ContactBySMS),
		ContactByEmail:        yes(in.ContactByEmail),
	}
	if byPhone {
		c.PrivacyPolicyAccepted = c.PrivacyPolicyAccepted || yes(in.GivenByPhone)
		p.Check(c.PrivacyPolicyAccepted, "consent.given_by_phone", FieldNotAccepted,
			"must be true: read the privacy notice to the caller and record their agreement")
	} else {
		p.Check(c.PrivacyPolicyAccepted, "consent.privacy_policy_accepted", FieldNotAccepted, "must be accepted (true)")
	}
	return c
}
