package booking

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// SlotStatus says whether a slot takes new bookings.
type SlotStatus string

// Slot statuses. A blocked slot is invisible to the public and takes no new
// bookings; the bookings it already has stay.
const (
	SlotOpen    SlotStatus = "open"
	SlotBlocked SlotStatus = "blocked"
)

// ParseSlotStatus parses "open" or "blocked". It returns an error, whose
// message can be shown as a field message, for anything else.
func ParseSlotStatus(s string) (SlotStatus, error) {
	switch st := SlotStatus(s); st {
	case SlotOpen, SlotBlocked:
		return st, nil
	}
	return "", errors.New("must be open or blocked")
}

// MaxSlotLength bounds a slot made by hand: a working day.
const MaxSlotLength = 12 * time.Hour

// Slot is a concrete bookable interval of one provider at one location for
// one consultation type. Booked, the number of bookings that occupy it (see
// Status.Occupies), is derived by the store and never above Capacity.
type Slot struct {
	ID                 uuid.UUID
	ProviderID         uuid.UUID
	LocationID         uuid.UUID
	ConsultationTypeID uuid.UUID
	ScheduleID         *uuid.UUID // the schedule that generated it; nil when made by hand
	StartAt, EndAt     time.Time  // UTC
	Capacity           int
	Booked             int
	Held               int // live slot holds on it, when the read counted them (availability, holds)
	Status             SlotStatus
	CreatedAt          time.Time
}

// Remaining returns the places left, Capacity minus Booked minus Held (a
// place held by a live slot hold is taken for everyone but its holder), and
// never less than zero. It does not look at Status: whether the slot may be booked is
// Policy.PublicBookable's question.
func (s Slot) Remaining() int { return max(0, s.Capacity-s.Booked-s.Held) }

// Overlaps reports whether the slot and [start, end) share any time. The
// intervals are half-open, so a slot ending at 10:00 does not overlap one
// starting at 10:00.
func (s Slot) Overlaps(start, end time.Time) bool {
	return s.StartAt.Before(end) && start.Before(s.EndAt)
}

// ValidateNewSlot checks a slot about to be created at now and returns a
// *ValidationError naming every wrong JSON field: provider_id, location_id,
// consultation_type_id (set), start_at (not in the past), end_at (after
// start_at, at most 12 hours later), capacity (1 to 100), status (open or
// blocked; empty counts as open).
func ValidateNewSlot(s Slot, now time.Time) error {
	var p Problems
	p.Check(s.ProviderID != uuid.Nil, "provider_id", FieldRequired, "is required")
	p.Check(s.LocationID != uuid.Nil, "location_id", FieldRequired, "is required")
	p.Check(s.ConsultationTypeID != uuid.Nil, "consultation_type_id", FieldRequired, "is required")
	p.Check(!s.StartAt.Before(now), "start_at", FieldInPast, "must not be in the past")
	if p.Check(s.EndAt.After(s.StartAt), "end_at", FieldOutOfOrder, "must be after start_at") {
		p.CheckLimit(s.EndAt.Sub(s.StartAt) <= MaxSlotLength, "end_at", FieldDurationTooLong, int(MaxSlotLength/time.Minute), "must be at most 12 hours after start_at")
	}
	checkRange(&p, "capacity", s.Capacity, 1, MaxCapacity)
	if s.Status != "" && s.Status != SlotOpen && s.Status != SlotBlocked {
		p.AddEnum("status", []string{string(SlotOpen), string(SlotBlocked)}, "must be open or blocked")
	}
	return p.Err()
}

// ValidateCapacity checks a new capacity for a slot that has booked
// occupying bookings. It returns a *ValidationError naming "capacity" when
// the capacity is outside 1 to 100 or below booked, which would overbook the
// slot.
func ValidateCapacity(capacity, booked int) error {
	var p Problems
	checkRange(&p, "capacity", capacity, 1, MaxCapacity)
	if p.Err() == nil {
		p.CheckLimit(capacity >= booked, "capacity", FieldTooSmall, booked, fmt.Sprintf("must be at least %d, the places already booked", booked))
	}
	return p.Err()
}
