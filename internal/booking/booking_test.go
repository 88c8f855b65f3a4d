package booking_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

var actions = []booking.Action{
	booking.ActionConfirm, booking.ActionDecline, booking.ActionCancel, booking.ActionCheckIn,
	booking.ActionComplete, booking.ActionNoShow, booking.ActionExpire,
}

// TestTransition checks every (status, action) pair against the product's
// diagram: the allowed ones reach their target, all others are refused.
func TestTransition(t *testing.T) {
	allowed := map[booking.Status]map[booking.Action]booking.Status{
		booking.StatusPending: {
			booking.ActionConfirm: booking.StatusConfirmed,
			booking.ActionDecline: booking.StatusDeclined,
			booking.ActionExpire:  booking.StatusExpired,
			booking.ActionCancel:  booking.StatusCancelled,
		},
		booking.StatusConfirmed: {
			booking.ActionCheckIn: booking.StatusCheckedIn,
			booking.ActionNoShow:  booking.StatusNoShow,
			booking.ActionCancel:  booking.StatusCancelled,
		},
		booking.StatusCheckedIn: {booking.ActionComplete: booking.StatusCompleted},
	}
	statuses := booking.Statuses()
	if got, want := len(statuses), 8; got != want {
		t.Fatalf("len(Statuses()) = %d, want %d", got, want)
	}
	for _, from := range statuses {
		for _, a := range actions {
			got, err := booking.Transition(from, a)
			want, ok := allowed[from][a]
			switch {
			case ok && (err != nil || got != want):
				t.Errorf("Transition(%s, %s) = %q, %v; want %s", from, a, got, err, want)
			case !ok && !errors.Is(err, booking.ErrInvalidTransition):
				t.Errorf("Transition(%s, %s) = %q, %v; want ErrInvalidTransition", from, a, got, err)
			case !ok && booking.CodeOf(err) != booking.CodeInvalidTransition:
				t.Errorf("Transition(%s, %s) code = %q, want %q", from, a, booking.CodeOf(err), booking.CodeInvalidTransition)
			}
		}
	}
	_, err := booking.Transition(booking.StatusPending, booking.ActionCheckIn)
	if got, want := err.Error(), "cannot check in a pending booking"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	_, err = booking.Transition(booking.StatusExpired, booking.ActionNoShow)
	if got, want := err.Error(), "cannot mark as no-show an expired booking"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestStatusRules(t *testing.T) {
	tests := []struct {
		status                  booking.Status
		occupies, reschedulable bool
	}{
		{booking.StatusPending, true, true},
		{booking.StatusConfirmed, true, true},
		{booking.StatusCheckedIn, true, false},
		{booking.StatusCompleted, true, false},
		{booking.StatusNoShow, true, false},
		{booking.StatusDeclined, false, false},
		{booking.StatusCancelled, false, false},
		{booking.StatusExpired, false, false},
	}
	for _, tt := range tests {
		if got := tt.status.Occupies(); got != tt.occupies {
			t.Errorf("%s.Occupies() = %v, want %v", tt.status, got, tt.occupies)
		}
		if got := booking.CanReschedule(tt.status); got != tt.reschedulable {
			t.Errorf("CanReschedule(%s) = %v, want %v", tt.status, got, tt.reschedulable)
		}
		if got, err := booking.ParseStatus(string(tt.status)); err != nil || got != tt.status {
			t.Errorf("ParseStatus(%q) = %q, %v", tt.status, got, err)
		}
	}
	if _, err := booking.ParseStatus("checked-in"); err == nil {
		t.Error("ParseStatus(checked-in) succeeded, want an error")
	}
	initial := []struct {
		source  booking.Source
		confirm bool
		want    booking.Status
	}{
		{booking.SourceWeb, true, booking.StatusPending},
		{booking.SourceWeb, false, booking.StatusConfirmed},
		{booking.SourcePhone, true, booking.StatusConfirmed},
		{booking.SourceStaff, true, booking.StatusConfirmed},
	}
	for _, tt := range initial {
		if got := booking.InitialStatus(tt.source, tt.confirm); got != tt.want {
			t.Errorf("InitialStatus(%s, %v) = %s, want %s", tt.source, tt.confirm, got, tt.want)
		}
	}
}

func TestBookingLifecycle(t *testing.T) {
	now := instant(t, "2026-11-01T12:00:00Z")
	req := booking.Request{SlotID: uuid.New(), Consent: booking.Consent{PrivacyPolicyAccepted: true}}
	patient := booking.Actor{Type: booking.ActorPatient}
	b, created, token, err := booking.NewBooking(req, booking.SourceWeb, booking.StatusPending, patient, now)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != 1 || b.Status != booking.StatusPending || b.SlotID != req.SlotID || b.ID == uuid.Nil {
		t.Errorf("NewBooking = %+v, want a pending booking, version 1, in the slot", b)
	}
	if !booking.TokenMatches(b.ManageTokenHash, token) || strings.Contains(b.ManageTokenHash, token) {
		t.Errorf("ManageTokenHash %q does not hash token %q", b.ManageTokenHash, token)
	}
	if _, ok := booking.NormalizeReference(b.Reference); !ok {
		t.Errorf("Reference = %q, not a valid reference", b.Reference)
	}
	if created.Type != booking.EventCreated || created.From != nil || created.To != booking.StatusPending || created.BookingID != b.ID {
		t.Errorf("created event = %+v", created)
	}
	if _, _, _, err := booking.NewBooking(req, booking.SourcePhone, booking.StatusCompleted, patient, now); err == nil {
		t.Error("NewBooking(completed) succeeded, want an error")
	}

	staff := booking.StaffActor(uuid.New())
	later := now.Add(time.Hour)
	e, err := b.Apply(booking.ActionConfirm, staff, "", later)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != booking.StatusConfirmed || !b.UpdatedAt.Equal(later) || e.Type != booking.EventConfirmed ||
		e.From == nil || *e.From != booking.StatusPending || e.To != booking.StatusConfirmed || e.Actor.StaffID == nil {
		t.Errorf("after confirm: booking %s, event %+v", b.Status, e)
	}

	newSlot := uuid.New()
	e, err = b.Reschedule(newSlot, patient, later)
	if err != nil || b.SlotID != newSlot || e.Type != booking.EventRescheduled || e.To != booking.StatusConfirmed {
		t.Errorf("Reschedule = %+v, %v; slot %v", e, err, b.SlotID)
	}
	if _, err := b.Reschedule(newSlot, patient, later); booking.CodeOf(err) != booking.CodeValidation {
		t.Errorf("Reschedule to the same slot: err %v, want a validation error", err)
	}

	before := b
	if _, err := b.Apply(booking.ActionComplete, staff, "", later); !errors.Is(err, booking.ErrInvalidTransition) || !reflect.DeepEqual(b, before) {
		t.Errorf("complete a confirmed booking: err %v; want ErrInvalidTransition and no change", err)
	}
	if _, err := b.Apply(booking.ActionCancel, staff, strings.Repeat("x", 1001), later); booking.CodeOf(err) != booking.CodeValidation || !reflect.DeepEqual(b, before) {
		t.Errorf("cancel with a long reason: err %v, want a validation error and no change", err)
	}
	e, err = b.Apply(booking.ActionCancel, patient, "  feeling better  ", later)
	if err != nil || b.Status != booking.StatusCancelled || b.CancellationReason != "feeling better" || e.Reason != "feeling better" {
		t.Errorf("cancel: booking %s %q, event %+v, err %v", b.Status, b.CancellationReason, e, err)
	}
	if _, err := b.Reschedule(uuid.New(), staff, later); !errors.Is(err, booking.ErrInvalidTransition) {
		t.Errorf("Reschedule a cancelled booking: err %v, want ErrInvalidTransition", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestBookingPatch(t *testing.T) {
	tests := []struct {
		name                string
		notes, phone, email *string
		want                []string
	}{
		{"nothing", nil, nil, nil, nil},
		{"all good", ptr("call after 5pm"), ptr("+1 (424) 555-0123"), ptr("ana@example.com"), nil},
		{"remove email", nil, nil, ptr(""), nil},
		{"all bad", ptr(strings.Repeat("n", 5001)), ptr("555-0123"), ptr("Ana <ana@example.com>"),
			[]string{"notes", "patient_email", "patient_phone"}},
		{"empty phone", nil, ptr(""), nil, []string{"patient_phone"}},
	}
	for _, tt := range tests {
		_, err := booking.ParseBookingPatch(tt.notes, tt.phone, tt.email)
		if got := fields(t, err); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: fields = %v, want %v", tt.name, got, tt.want)
		}
	}

	b := booking.Booking{Status: booking.StatusConfirmed, Patient: booking.Patient{Phone: "+14245550123", Email: "ana@example.com"}}
	p, err := booking.ParseBookingPatch(ptr("note"), ptr("+14245550123"), ptr("ANA@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	e, changed := b.Update(p, booking.StaffActor(uuid.New()), time.Now())
	if got, want := e.Reason, "changed notes, patient_email"; !changed || got != want || e.Type != booking.EventUpdated {
		t.Errorf("Update = %+v, %v; want reason %q", e, changed, want)
	}
	if _, changed := b.Update(p, booking.StaffActor(uuid.New()), time.Now()); changed {
		t.Error("the same patch again changed the booking")
	}
}
