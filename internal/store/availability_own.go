package store

import (
	"slices"
	"time"
)

// ownNotices are the place changes this process's own PostgreSQL
// transactions made, whose NOTIFY the listener is still to receive. The
// writing instance reads a place change's slot once after its own commit
// (endAvailability), before the writing call returns; the NOTIFY announcing
// that same commit reaches its listener too, and reading the slot again
// there would only hand the caches the state they already have (or a newer
// one, which the write that made it announces in a notification of its
// own). So the listener skips a notification it finds here and reads every
// other one, other instances' above all.
//
// The notifications are sent after the commit, by the step that follows it
// (see availability_notice.go), in two stages. rows holds the seqs of the
// availability_pending rows this process's transactions queued, added
// before each commit (a transaction that did not commit takes them back).
// The step that deletes them sends their scopes, one notification per
// distinct scope (PostgreSQL delivers one per distinct payload of a
// transaction), and m holds, by the step's backend pid (pg_backend_pid())
// and scope, every place scope it sends, marked own when only this
// process's place changes queued it (a scope another writer queued too in
// the same batch is read). Entries of m are added before the step commits,
// so one is there when its notification arrives, however soon.
//
// One backend serves this process's steps one after another (the pool
// hands its connection on), and a step may send a scope as another's just
// before the next step on the same backend sends it as its own. So m keeps
// a backend's entries for a scope in the order of its steps: their
// notifications arrive in that order (a step commits before the next one
// on its backend begins), and each takes the first entry. An own entry can
// then never be taken by the notification of another's change, which would
// be read by no one here.
//
// An entry whose notification never came (the listener was reconnecting,
// or a commit failed after reaching the server) is forgotten when the
// listener reconnects or after ownNoticeTTL, so that a later backend given
// the same pid cannot have its notification skipped; a row another
// instance's step sent (its notification is then read as another's) is
// forgotten after ownNoticeTTL.
type ownNotices struct {
	m    map[ownNotice][]sentNotice // oldest first
	rows map[int64]time.Time        // seq: when queued
}

type ownNotice struct {
	pid   uint32
	scope string
}

// sentNotice is a place scope a step of this process sent: whether it was
// wholly this process's own change, and when.
type sentNotice struct {
	own   bool
	added time.Time
}

// ownNoticeTTL is how long an own notification is waited for; they arrive
// within milliseconds of the commit.
const ownNoticeTTL = 30 * time.Second

// expectSent records that backend pid's step is about to commit, and
// announce, the scopes sent, of which own are this process's own place
// changes (see noticeScopes); v.placeMu is not held. Only place scopes are
// kept: the listener reads every other scope.
func (v *availabilityVersion) expectSent(pid uint32, sent, own []string, now time.Time) {
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	if v.own.m == nil {
		v.own.m = map[ownNotice][]sentNotice{}
	}
	if len(v.own.m) > 1024 {
		for k, q := range v.own.m {
			if now.Sub(q[len(q)-1].added) > ownNoticeTTL {
				delete(v.own.m, k)
			}
		}
	}
	for _, sc := range sent {
		if _, place := parsePlaceScope(sc); !place {
			continue
		}
		k := ownNotice{pid, sc}
		v.own.m[k] = append(v.own.m[k], sentNotice{own: slices.Contains(own, sc), added: now})
	}
}

// unexpectSent takes back what expectSent recorded, for a step that did not
// commit: the last entries of its backend's scopes, as no other step used
// the backend since.
func (v *availabilityVersion) unexpectSent(pid uint32, sent []string) {
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	for _, sc := range sent {
		k := ownNotice{pid, sc}
		q := v.own.m[k]
		switch len(q) {
		case 0:
		case 1:
			delete(v.own.m, k)
		default:
			v.own.m[k] = q[:len(q)-1]
		}
	}
}

// isOwn reports whether the notification of scope from backend pid
// announces a commit of this process's own place change, and forgets the
// step's entry it matches (the oldest of that backend and scope).
func (v *availabilityVersion) isOwn(pid uint32, scope string, now time.Time) bool {
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	k := ownNotice{pid, scope}
	q, ok := v.own.m[k]
	if !ok {
		return false
	}
	first := q[0]
	if len(q) == 1 {
		delete(v.own.m, k)
	} else {
		v.own.m[k] = q[1:]
	}
	return first.own && now.Sub(first.added) <= ownNoticeTTL
}

// forgetOwn drops every notification expected: the listener (re)connected,
// and whatever it missed meanwhile moved every version. (Rows not sent yet
// stay: their notifications are still to come.)
func (v *availabilityVersion) forgetOwn() {
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	clear(v.own.m)
}

// expectRows records that this process's transaction is about to commit
// the availability_pending rows seqs, whose place changes it reads itself.
func (v *availabilityVersion) expectRows(seqs []int64, now time.Time) {
	if len(seqs) == 0 {
		return
	}
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	if v.own.rows == nil {
		v.own.rows = map[int64]time.Time{}
	}
	if len(v.own.rows) > 1024 {
		for k, at := range v.own.rows {
			if now.Sub(at) > ownNoticeTTL {
				delete(v.own.rows, k)
			}
		}
	}
	for _, seq := range seqs {
		v.own.rows[seq] = now
	}
}

// forgetRows drops rows from the record: their transaction did not commit,
// or a step has sent them.
func (v *availabilityVersion) forgetRows(seqs []int64) {
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	for _, seq := range seqs {
		delete(v.own.rows, seq)
	}
}

// isOwnRow reports whether this process queued the availability_pending
// row seq (see expectRows).
func (v *availabilityVersion) isOwnRow(seq int64) bool {
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	_, ok := v.own.rows[seq]
	return ok
}
