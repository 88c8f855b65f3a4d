package booking

import (
	"errors"
	"testing"
)

func TestCheckLivePerPatient(t *testing.T) {
	tests := []struct {
		name string
		max  int
		live LiveOnline
		want bool // refused
	}{
		{"off", 0, LiveOnline{ByEmail: 50, ByPhone: 50}, false},
		{"none yet", 3, LiveOnline{}, false},
		{"below by both", 3, LiveOnline{ByEmail: 2, ByPhone: 2}, false},
		{"at the limit by email", 3, LiveOnline{ByEmail: 3, ByPhone: 0}, true},
		{"at the limit by phone", 3, LiveOnline{ByEmail: 1, ByPhone: 3}, true},
		{"over the limit", 3, LiveOnline{ByEmail: 4, ByPhone: 4}, true},
		{"limit of one", 1, LiveOnline{ByPhone: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLivePerPatient(tt.max, tt.live)
			if got := err != nil; got != tt.want {
				t.Fatalf("refused: got %v (%v), want %v", got, err, tt.want)
			}
			if err == nil {
				return
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrPatientLimitReached) || e.Limit == nil || *e.Limit != tt.max {
				t.Errorf("got %#v, want patient_limit_reached with Limit %d", err, tt.max)
			}
		})
	}
}

func TestMaxDayHolds(t *testing.T) {
	tests := []struct {
		share     float64
		free      int
		want      int
		refuseAt  int // held count at which CheckDayHolds refuses
		neverStop bool
	}{
		{share: 0.5, free: 8, want: 4, refuseAt: 4},
		{share: 0.5, free: 7, want: 3, refuseAt: 3},
		{share: 0.5, free: 2, want: 1, refuseAt: 1},
		{share: 0.5, free: 1, want: 1, refuseAt: 1},
		{share: 0.5, free: 0, want: 1, refuseAt: 1},
		{share: 0.3, free: 10, want: 3, refuseAt: 3},
		{share: 0.25, free: 40, want: 10, refuseAt: 10},
		{share: 1, free: 8, want: 8, neverStop: true},
		{share: 0, free: 8, want: 8, neverStop: true},
	}
	for _, tt := range tests {
		p := Policy{HoldMaxShare: tt.share}
		if got := p.MaxDayHolds(tt.free); got != tt.want {
			t.Errorf("share %v of %d free: got %d holds, want %d", tt.share, tt.free, got, tt.want)
		}
		if tt.neverStop {
			if err := p.CheckDayHolds(DayHolds{Free: tt.free, Held: tt.free * 10}); err != nil {
				t.Errorf("share %v: got %v, want no share limit", tt.share, err)
			}
			continue
		}
		if err := p.CheckDayHolds(DayHolds{Free: tt.free, Held: tt.refuseAt - 1}); err != nil {
			t.Errorf("share %v of %d free, %d held: got %v, want allowed", tt.share, tt.free, tt.refuseAt-1, err)
		}
		if err := p.CheckDayHolds(DayHolds{Free: tt.free, Held: tt.refuseAt}); !errors.Is(err, ErrHoldShareReached) {
			t.Errorf("share %v of %d free, %d held: got %v, want hold_share_reached", tt.share, tt.free, tt.refuseAt, err)
		}
	}
}
