package store

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// A step announces each scope it deletes once, and tells its listener to
// skip only the place changes every row of which this process queued; a
// batch too large to list is announced as everything.
func TestNoticeScopes(t *testing.T) {
	p := uuid.NewString()
	place1, place2 := p+"/20000/"+uuid.NewString(), p+"/20000/"+uuid.NewString()
	day := p + "/20000"
	mine := map[int64]bool{1: true, 2: true, 3: true, 5: true}
	many := make([]queuedChange, maxNoticeScopes+1)
	for i := range many {
		many[i] = queuedChange{seq: int64(i + 1), scope: fmt.Sprintf("%s/%d", p, i)}
	}
	for _, tc := range []struct {
		name       string
		queued     []queuedChange
		wantScopes []string
		wantOwn    []string
	}{
		{"own place change", []queuedChange{{1, place1}}, []string{place1}, []string{place1}},
		{"own twice", []queuedChange{{1, place1}, {2, place1}}, []string{place1}, []string{place1}},
		{"another writer's", []queuedChange{{4, place1}}, []string{place1}, nil},
		{"own and another writer's, one scope", []queuedChange{{1, place1}, {4, place1}}, []string{place1}, nil},
		{"another writer's first", []queuedChange{{4, place1}, {1, place1}, {2, place2}}, []string{place1, place2}, []string{place2}},
		{"own change of a whole day: bumped, not read", []queuedChange{{3, day}, {5, place1}}, []string{day, place1}, []string{place1}},
		{"too many", many, []string{"*"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scopes, own := noticeScopes(tc.queued, func(seq int64) bool { return mine[seq] })
			if !slices.Equal(scopes, tc.wantScopes) {
				t.Errorf("scopes: got %v, want %v", scopes, tc.wantScopes)
			}
			if !slices.Equal(own, tc.wantOwn) {
				t.Errorf("own: got %v, want %v", own, tc.wantOwn)
			}
		})
	}
}
