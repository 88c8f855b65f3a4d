package store

import (
	"testing"
	"time"
)

// An own notification is skipped once per commit that announced it, never
// after its transaction rolled back, never from another backend, and not
// once it is older than ownNoticeTTL (its backend's pid may have been
// given to another session since). A step that sent the scope as another's
// change, on the same backend just before, is matched to its own
// notification first, so the own entry is not spent on it.
func TestOwnNotices(t *testing.T) {
	const scope = "0b9a4a4e-3f1e-4c5d-9a57-111111111111/20500/0b9a4a4e-3f1e-4c5d-9a57-222222222222"
	if _, ok := parsePlaceScope(scope); !ok {
		t.Fatalf("%q is no place scope", scope)
	}
	sent := []string{scope}
	t0 := time.Unix(1_000_000, 0)
	for _, tc := range []struct {
		name string
		do   func(v *availabilityVersion)
		pid  uint32
		at   time.Time
		want []bool // isOwn, asked this many times
	}{
		{"committed once", func(v *availabilityVersion) { v.expectSent(7, sent, sent, t0) }, 7, t0, []bool{true, false}},
		{"committed twice", func(v *availabilityVersion) {
			v.expectSent(7, sent, sent, t0)
			v.expectSent(7, sent, sent, t0)
		}, 7, t0, []bool{true, true, false}},
		{"rolled back", func(v *availabilityVersion) {
			v.expectSent(7, sent, sent, t0)
			v.unexpectSent(7, sent)
		}, 7, t0, []bool{false}},
		{"another's, then own", func(v *availabilityVersion) {
			v.expectSent(7, sent, nil, t0)
			v.expectSent(7, sent, sent, t0)
		}, 7, t0, []bool{false, true, false}},
		{"another's, then own rolled back", func(v *availabilityVersion) {
			v.expectSent(7, sent, nil, t0)
			v.expectSent(7, sent, sent, t0)
			v.unexpectSent(7, sent)
		}, 7, t0, []bool{false, false}},
		{"own, then another's", func(v *availabilityVersion) {
			v.expectSent(7, sent, sent, t0)
			v.expectSent(7, sent, nil, t0)
		}, 7, t0, []bool{true, false, false}},
		{"not a place scope", func(v *availabilityVersion) { v.expectSent(7, []string{"*"}, []string{"*"}, t0) }, 7, t0, []bool{false}},
		{"another backend", func(v *availabilityVersion) { v.expectSent(7, sent, sent, t0) }, 8, t0, []bool{false}},
		{"too old", func(v *availabilityVersion) { v.expectSent(7, sent, sent, t0) }, 7, t0.Add(ownNoticeTTL + time.Second), []bool{false}},
		{"listener reconnected", func(v *availabilityVersion) {
			v.expectSent(7, sent, sent, t0)
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
