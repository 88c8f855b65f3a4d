package store

import (
	"testing"
	"time"
)

// An own notification is skipped once per commit that announced it, never
// after its transaction rolled back, never from another backend, and not
// once it is older than ownNoticeTTL (its backend's pid may have been
// given to another session since).
func TestOwnNotices(t *testing.T) {
	const scope = "p/1/s"
	t0 := time.Unix(1_000_000, 0)
	for _, tc := range []struct {
		name string
		do   func(v *availabilityVersion)
		pid  uint32
		at   time.Time
		want []bool // isOwn, asked this many times
	}{
		{"committed once", func(v *availabilityVersion) { v.expectOwn(7, []string{scope}, t0) }, 7, t0, []bool{true, false}},
		{"committed twice", func(v *availabilityVersion) {
			v.expectOwn(7, []string{scope}, t0)
			v.expectOwn(7, []string{scope}, t0)
		}, 7, t0, []bool{true, true, false}},
		{"rolled back", func(v *availabilityVersion) {
			v.expectOwn(7, []string{scope}, t0)
			v.unexpectOwn(7, []string{scope})
		}, 7, t0, []bool{false}},
		{"another backend", func(v *availabilityVersion) { v.expectOwn(7, []string{scope}, t0) }, 8, t0, []bool{false}},
		{"too old", func(v *availabilityVersion) { v.expectOwn(7, []string{scope}, t0) }, 7, t0.Add(ownNoticeTTL + time.Second), []bool{false}},
		{"listener reconnected", func(v *availabilityVersion) {
			v.expectOwn(7, []string{scope}, t0)
			v.forgetOwn()
		}, 7, t0, []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newAvailabilityVersion("", nil)
			tc.do(v)
			for i, want := range tc.want {
				if got := v.isOwn(tc.pid, scope, tc.at); got != want {
					t.Errorf("ask %d: got %v, want %v", i+1, got, want)
				}
			}
		})
	}
}
