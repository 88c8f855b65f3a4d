package booking

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestFrontDeskDayEndsWithTheLocalDay checks that check-in and revert close
// at the end of the appointment's local day, also on a day whose following
// midnight DST skips (Santiago, 2026-09-05: the day ends at 04:00Z, not at
// 03:00Z nor 05:00Z).
func TestFrontDeskDayEndsWithTheLocalDay(t *testing.T) {
	p := DefaultPolicy()
	santiago, _ := time.LoadLocation("America/Santiago")
	start := time.Date(2026, 9, 6, 2, 30, 0, 0, time.UTC) // 22:30 on 2026-09-05 local
	dayEnd := time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC)
	slot := Slot{ID: uuid.New(), StartAt: start, EndAt: start.Add(30 * time.Minute)}
	tests := []struct {
		from   Status
		action Action
		now    time.Time
		want   error // nil: allowed
	}{
		{StatusConfirmed, ActionCheckIn, start.Add(-3*time.Hour - time.Second), ErrTransitionNotYetAllowed},
		{StatusConfirmed, ActionCheckIn, start.Add(-3 * time.Hour), nil},
		{StatusConfirmed, ActionCheckIn, dayEnd.Add(-time.Second), nil},
		{StatusConfirmed, ActionCheckIn, dayEnd, ErrTransitionNoLongerAllowed},
		{StatusConfirmed, ActionNoShow, start.Add(-time.Second), ErrTransitionNotYetAllowed},
		{StatusConfirmed, ActionNoShow, start, nil},
		{StatusCheckedIn, ActionComplete, start.Add(-time.Second), ErrTransitionNotYetAllowed},
		{StatusCheckedIn, ActionComplete, dayEnd.Add(48 * time.Hour), nil},
		{StatusCheckedIn, ActionRevert, dayEnd.Add(-time.Second), nil},
		{StatusNoShow, ActionRevert, dayEnd, ErrTransitionNoLongerAllowed},
		{StatusPending, ActionRevert, start, ErrInvalidTransition},
		{StatusCompleted, ActionRevert, start, ErrInvalidTransition},
		{StatusPending, ActionCheckIn, start.Add(-10 * time.Hour), ErrInvalidTransition}, // the state is checked first
	}
	for _, tt := range tests {
		b := Booking{ID: uuid.New(), SlotID: slot.ID, Status: tt.from}
		_, err := p.StaffTransition(&b, slot, santiago, tt.action, Actor{Type: ActorSystem}, "why", tt.now)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s %s at %v: got %v, want %v", tt.from, tt.action, tt.now, err, tt.want)
		}
		var de *Error
		if errors.As(err, &de) {
			switch de.Code {
			case CodeTransitionNotYetAllowed:
				if de.OpensAt == nil {
					t.Errorf("%s %s: no OpensAt", tt.from, tt.action)
				}
			case CodeTransitionNoLongerAllowed:
				if de.ClosedAt == nil || !de.ClosedAt.Equal(dayEnd) {
					t.Errorf("%s %s: got ClosedAt %v, want %v", tt.from, tt.action, de.ClosedAt, dayEnd)
				}
			}
		}
		if err != nil && b.Status != tt.from {
			t.Errorf("%s %s: a refused action changed the status to %s", tt.from, tt.action, b.Status)
		}
	}
}
