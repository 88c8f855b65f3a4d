package store

import (
	"fmt"

	"gorm.io/gorm"
)

// A list's page of bookings is read whole, each with its slot, in one
// statement (readBookings): the rows of a search are a handful found by
// id, and reading their slots in a second query, and every column through
// GORM's reflection, cost more than finding them (see BENCHMARKS.md,
// "Reception at scale").

// pageBookingColumns are the columns readBookings reads of bookings b, in the
// order of bookingRow.dest.
const pageBookingColumns = "b.id, b.reference, b.slot_id, b.status, b.source, b.patient_first_name, b.patient_last_name, " +
	"b.patient_dob, b.patient_phone, b.patient_email, b.intake, b.consent_privacy, b.consent_sms, " +
	"b.consent_email, b.notes, b.cancellation_reason, b.manage_token_hash, b.created_by_staff_id, b.patient_id, " +
	"b.version, b.slot_start_at, b.provider_name, b.location_name, b.location_address, b.consultation_type_name, " +
	"b.timezone, b.intake_form_version, b.triage_level, b.triage_rules, b.triage_override, b.locale, b.created_at, b.updated_at"

// dest is where a row of pageBookingColumns is scanned.
func (r *bookingRow) dest() []any {
	return []any{&r.ID, &r.Reference, &r.SlotID, &r.Status, &r.Source, &r.PatientFirstName, &r.PatientLastName,
		&r.PatientDOB, &r.PatientPhone, &r.PatientEmail, &r.Intake, &r.ConsentPrivacy, &r.ConsentSMS,
		&r.ConsentEmail, &r.Notes, &r.CancellationReason, &r.ManageTokenHash, &r.CreatedByStaffID, &r.PatientID,
		&r.Version, &r.SlotStartAt, &r.ProviderName, &r.LocationName, &r.LocationAddress, &r.ConsultationType,
		&r.Timezone, &r.IntakeFormVersion, &r.TriageLevel, &r.TriageRules, &r.TriageOverride, &r.Locale, &r.CreatedAt, &r.UpdatedAt}
}

// pageSlotColumns are the columns readBookings reads of slots s, in the order
// of slotRow.dest.
const pageSlotColumns = "s.id, s.provider_id, s.location_id, s.consultation_type_id, s.schedule_id, s.start_at, s.end_at, " +
	"s.capacity, s.booked, s.status, s.created_at"

// dest is where a row of pageSlotColumns is scanned.
func (r *slotRow) dest() []any {
	return []any{&r.ID, &r.ProviderID, &r.LocationID, &r.ConsultationTypeID, &r.ScheduleID, &r.StartAt, &r.EndAt,
		&r.Capacity, &r.Booked, &r.Status, &r.CreatedAt}
}

// pageRoom is the room made for a page's rows before they are read: a
// page of 20 and the one after it that says more follow.
const pageRoom = 21

// readBookings reads whole the bookings b that the condition where (on b,
// with args; a subquery of ids is fine) selects, and each one's slot
// (slots[i] is rows[i]'s), in one statement, in no particular order. It
// is for pages: every row is held in memory.
func readBookings(db *gorm.DB, where string, args ...any) (rows []bookingRow, slots []slotRow, err error) {
	// CROSS JOIN: SQLite then reads bookings first, by where, and each
	// one's slot by id; with a plain join and no statistics it may walk
	// every slot instead, testing each one's bookings against where.
	res, err := db.Raw("SELECT "+packed(db, pageBookingColumns+", "+pageSlotColumns)+
		" FROM bookings b CROSS JOIN slots s WHERE s.id = b.slot_id AND ("+where+")", args...).Rows()
	if err != nil {
		return nil, nil, fmt.Errorf("read bookings: %w", err)
	}
	defer res.Close()
	// Scanned in place, a page's worth of room made at once: a row is
	// some 500 bytes, and copying each one in and the slices out as they
	// grew was a tenth of reading the page.
	rows, slots = make([]bookingRow, 0, pageRoom), make([]slotRow, 0, pageRoom)
	for res.Next() {
		rows, slots = append(rows, bookingRow{}), append(slots, slotRow{})
		b, s := &rows[len(rows)-1], &slots[len(slots)-1]
		if err := scanRow(db, res, append(b.dest(), s.dest()...)); err != nil {
			return nil, nil, fmt.Errorf("read bookings: %w", err)
		}
	}
	if err := res.Err(); err != nil {
		return nil, nil, fmt.Errorf("read bookings: %w", err)
	}
	return rows, slots, nil
}
