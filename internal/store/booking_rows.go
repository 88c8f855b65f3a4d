package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// bookingRow is a row of bookings. SlotStartAt copies the slot's start (Unix
// seconds) to sort and filter the agenda without a join; SearchText is the
// lower-cased reference, names, phone and email that a search matches.
type bookingRow struct {
	ID                 string    `gorm:"column:id;primaryKey"`
	Reference          string    `gorm:"column:reference"`
	SlotID             string    `gorm:"column:slot_id"`
	Status             string    `gorm:"column:status"`
	Source             string    `gorm:"column:source"`
	PatientFirstName   string    `gorm:"column:patient_first_name"`
	PatientLastName    string    `gorm:"column:patient_last_name"`
	PatientDOB         string    `gorm:"column:patient_dob"`
	PatientPhone       string    `gorm:"column:patient_phone"`
	PatientEmail       string    `gorm:"column:patient_email"`
	SearchText         string    `gorm:"column:search_text"`
	Intake             string    `gorm:"column:intake"`
	ConsentPrivacy     bool      `gorm:"column:consent_privacy"`
	ConsentSMS         bool      `gorm:"column:consent_sms"`
	ConsentEmail       bool      `gorm:"column:consent_email"`
	Notes              string    `gorm:"column:notes"`
	CancellationReason string    `gorm:"column:cancellation_reason"`
	ManageTokenHash    string    `gorm:"column:manage_token_hash"`
	CreatedByStaffID   *string   `gorm:"column:created_by_staff_id"`
	PatientID          *string   `gorm:"column:patient_id"`
	Version            int       `gorm:"column:version"`
	SlotStartAt        int64     `gorm:"column:slot_start_at"`
	ProviderName       string    `gorm:"column:provider_name"`
	LocationName       string    `gorm:"column:location_name"`
	LocationAddress    string    `gorm:"column:location_address"`
	ConsultationType   string    `gorm:"column:consultation_type_name"`
	Timezone           string    `gorm:"column:timezone"`
	IntakeFormVersion  *string   `gorm:"column:intake_form_version"`
	TriageLevel        string    `gorm:"column:triage_level"`
	TriageRules        string    `gorm:"column:triage_rules"`    // JSON array of rule ids
	TriageOverride     *string   `gorm:"column:triage_override"` // JSON triageOverrideJSON, or NULL
	Locale             string    `gorm:"column:locale"`
	CreatedAt          time.Time `gorm:"column:created_at"`
	UpdatedAt          time.Time `gorm:"column:updated_at"`
}

func (bookingRow) TableName() string { return "bookings" }

// intakeJSON is the intake column: the answers as JSON, in the API's names.
// A question not asked (a phone booking) is left out.
type intakeJSON struct {
	RedFlags               []string `json:"red_flags,omitempty"`
	PainSeverity           *int     `json:"pain_severity,omitempty"`
	RelievedBy             []string `json:"relieved_by"`
	PainStartedOn          string   `json:"pain_started_on,omitempty"`
	PreExistingConditions  []string `json:"pre_existing_conditions"`
	SpasmFrequency         string   `json:"spasm_frequency,omitempty"`
	RecentPhysicalActivity *bool    `json:"recent_physical_activity,omitempty"`
	ActivityDetails        string   `json:"activity_details,omitempty"`
	Reason                 string   `json:"reason,omitempty"`
}

func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

// idStrings is ids in their text form, as the tables key rows.
func idStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func typed[T ~string](in []string) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = T(v)
	}
	return out
}

func bookingToRow(b booking.Booking, slotStart time.Time) (bookingRow, error) {
	in := intakeJSON{
		RedFlags:     strs(b.Intake.RedFlags),
		PainSeverity: b.Intake.PainSeverity, RelievedBy: strs(b.Intake.RelievedBy),
		PreExistingConditions: strs(b.Intake.PreExistingConditions), SpasmFrequency: string(b.Intake.SpasmFrequency),
		RecentPhysicalActivity: b.Intake.RecentPhysicalActivity, ActivityDetails: b.Intake.ActivityDetails,
		Reason: b.Intake.Reason,
	}
	if b.Intake.PainStartedOn != nil {
		in.PainStartedOn = b.Intake.PainStartedOn.String()
	}
	intake, err := json.Marshal(in)
	if err != nil {
		return bookingRow{}, fmt.Errorf("booking intake: %w", err)
	}
	tr, err := triageColumns(b)
	if err != nil {
		return bookingRow{}, err
	}
	return bookingRow{
		IntakeFormVersion: tr.version, TriageLevel: tr.level, TriageRules: tr.rules, TriageOverride: tr.override,
		ID: b.ID.String(), Reference: b.Reference, SlotID: b.SlotID.String(), Status: string(b.Status),
		Source: string(b.Source), PatientFirstName: b.Patient.FirstName, PatientLastName: b.Patient.LastName,
		PatientDOB: b.Patient.DateOfBirth.String(), PatientPhone: b.Patient.Phone, PatientEmail: b.Patient.Email,
		SearchText: searchText(b), Intake: string(intake),
		ConsentPrivacy: b.Consent.PrivacyPolicyAccepted, ConsentSMS: b.Consent.ContactBySMS, ConsentEmail: b.Consent.ContactByEmail,
		Notes: b.Notes, CancellationReason: b.CancellationReason, ManageTokenHash: b.ManageTokenHash,
		Version: b.Version, SlotStartAt: slotStart.Unix(), CreatedAt: utc(b.CreatedAt), UpdatedAt: utc(b.UpdatedAt),
		ProviderName: b.Snapshot.ProviderName, LocationName: b.Snapshot.LocationName,
		LocationAddress: b.Snapshot.LocationAddress, ConsultationType: b.Snapshot.ConsultationTypeName,
		Timezone:  b.Snapshot.Timezone,
		PatientID: patientIDString(b.PatientID),
		Locale:    localeOrDefault(b.Locale),
	}, nil
}

func patientIDString(id uuid.UUID) *string {
	if id == uuid.Nil {
		return nil
	}
	s := id.String()
	return &s
}

func (r bookingRow) toDomain() (booking.Booking, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return booking.Booking{}, fmt.Errorf("booking row %q: %w", r.ID, err)
	}
	slotID, err := uuid.Parse(r.SlotID)
	if err != nil {
		return booking.Booking{}, fmt.Errorf("booking row %q: slot: %w", r.ID, err)
	}
	dob, err := booking.ParseDate(r.PatientDOB)
	if err != nil {
		return booking.Booking{}, fmt.Errorf("booking row %q: date of birth: %w", r.ID, err)
	}
	var in intakeJSON
	if err := json.Unmarshal([]byte(r.Intake), &in); err != nil {
		return booking.Booking{}, fmt.Errorf("booking row %q: intake: %w", r.ID, err)
	}
	intake := booking.Intake{
		RedFlags:     typed[booking.RedFlag](in.RedFlags),
		PainSeverity: in.PainSeverity, RelievedBy: typed[booking.Relief](in.RelievedBy),
		PreExistingConditions: typed[booking.Condition](in.PreExistingConditions),
		SpasmFrequency:        booking.SpasmFrequency(in.SpasmFrequency), RecentPhysicalActivity: in.RecentPhysicalActivity,
		ActivityDetails: in.ActivityDetails, Reason: in.Reason,
	}
	if in.PainStartedOn != "" {
		d, err := booking.ParseDate(in.PainStartedOn)
		if err != nil {
			return booking.Booking{}, fmt.Errorf("booking row %q: pain start: %w", r.ID, err)
		}
		intake.PainStartedOn = &d
	}
	tr, err := r.triage()
	if err != nil {
		return booking.Booking{}, err
	}
	return booking.Booking{
		Triage: tr.Triage, IntakeFormVersion: tr.version, TriageOverride: tr.override,
		ID: id, Reference: r.Reference, SlotID: slotID, Status: booking.Status(r.Status), Source: booking.Source(r.Source),
		Patient: booking.Patient{
			FirstName: r.PatientFirstName, LastName: r.PatientLastName, DateOfBirth: dob,
			Phone: r.PatientPhone, Email: r.PatientEmail,
		},
		Intake: intake,
		Consent: booking.Consent{PrivacyPolicyAccepted: r.ConsentPrivacy, ContactBySMS: r.ConsentSMS, ContactByEmail: r.ConsentEmail,
			ByPhone: r.phoneConsent()},
		Notes: r.Notes, CancellationReason: r.CancellationReason, Version: r.Version, ManageTokenHash: r.ManageTokenHash,
		Locale: localeOrDefault(r.Locale),
		Snapshot: booking.Snapshot{
			ProviderName: r.ProviderName, LocationName: r.LocationName, LocationAddress: r.LocationAddress,
			ConsultationTypeName: r.ConsultationType, Timezone: r.Timezone,
		},
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), PatientID: derefUUID(parseUUIDPtr(r.PatientID)),
	}, nil
}

// phoneConsent is who took a phone booking's consent and when. A phone
// booking is made in one step by one staff member, whose consent record is
// the booking's creation: created_by_staff_id and created_at already hold
// it, so no column repeats them. Web bookings, and rows without a creator,
// have none.
func (r bookingRow) phoneConsent() *booking.PhoneConsent {
	if booking.Source(r.Source) != booking.SourcePhone || r.CreatedByStaffID == nil {
		return nil
	}
	id, err := uuid.Parse(*r.CreatedByStaffID)
	if err != nil {
		return nil
	}
	return &booking.PhoneConsent{StaffID: id, At: r.CreatedAt.UTC()}
}

func derefUUID(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}

type bookingEventRow struct {
	ID           string    `gorm:"column:id;primaryKey"`
	BookingID    string    `gorm:"column:booking_id"`
	ActorType    string    `gorm:"column:actor_type"`
	ActorStaffID *string   `gorm:"column:actor_staff_id"`
	Type         string    `gorm:"column:type"`
	FromStatus   *string   `gorm:"column:from_status"`
	ToStatus     string    `gorm:"column:to_status"`
	Reason       string    `gorm:"column:reason"`
	At           time.Time `gorm:"column:at"`
}

func (bookingEventRow) TableName() string { return "booking_events" }

func eventToRow(e booking.Event) bookingEventRow {
	row := bookingEventRow{
		ID: e.ID.String(), BookingID: e.BookingID.String(), ActorType: string(e.Actor.Type),
		ActorStaffID: uuidPtrString(e.Actor.StaffID), Type: string(e.Type), ToStatus: string(e.To),
		Reason: e.Reason, At: utc(e.At),
	}
	if e.From != nil {
		from := string(*e.From)
		row.FromStatus = &from
	}
	return row
}

func (r bookingEventRow) toDomain() (booking.Event, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return booking.Event{}, fmt.Errorf("booking event row %q: %w", r.ID, err)
	}
	bid, err := uuid.Parse(r.BookingID)
	if err != nil {
		return booking.Event{}, fmt.Errorf("booking event row %q: %w", r.ID, err)
	}
	e := booking.Event{
		ID: id, BookingID: bid, Actor: booking.Actor{Type: booking.ActorType(r.ActorType), StaffID: parseUUIDPtr(r.ActorStaffID)},
		Type: booking.EventType(r.Type), To: booking.Status(r.ToStatus), Reason: r.Reason, At: r.At.UTC(),
	}
	if r.FromStatus != nil {
		from := booking.Status(*r.FromStatus)
		e.From = &from
	}
	return e, nil
}

// localeOrDefault is l, or the default language when l is empty (a booking
// built without one, or read through a query that leaves the column out).
func localeOrDefault(l string) string {
	if l == "" {
		return booking.Locales[0]
	}
	return l
}
