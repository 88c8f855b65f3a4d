package store

import (
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
// before each commit (a transaction that did not commit takes them back);
// the step that deletes them sends their scopes, and m holds, by the step's
// backend pid (pg_backend_pid()) and scope, the scopes it sends that only
// this process's place changes queued (a scope another writer queued too
// in the same batch is read). PostgreSQL delivers one notification per
// distinct payload of a transaction, and a step sends a scope once. Entries
// of m are added before the step commits, so one is there when its
// notification arrives, however soon. An entry whose notification never
// came (the listener was reconnecting, or a commit failed after reaching
// the server) is forgotten when the listener reconnects or after
// ownNoticeTTL, so that a later backend given the same pid cannot have its
// notification skipped; a row another instance's step sent (its
// notification is then read as another's) is forgotten after ownNoticeTTL.
type ownNotices struct {
	m    map[ownNotice]ownCount
	rows map[int64]time.Time // seq: when queued
}

type ownNotice struct {
	pid   uint32
	scope string
}

type ownCount struct {
	n     int
	added time.Time
}

// ownNoticeTTL is how long an own notification is waited for; they arrive
// within milliseconds of the commit.
const ownNoticeTTL = 30 * time.Second

// expectOwn records that backend pid's transaction is about to commit, and
// announce, the place scopes ps, this process's own; v.placeMu is not held.
func (v *availabilityVersion) expectOwn(pid uint32, ps []string, now time.Time) {
	if len(ps) == 0 {
		return
	}
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	if v.own.m == nil {
		v.own.m = map[ownNotice]ownCount{}
	}
	if len(v.own.m) > 1024 {
		for k, c := range v.own.m {
			if now.Sub(c.added) > ownNoticeTTL {
				delete(v.own.m, k)
			}
		}
	}
	for _, sc := range ps {
		k := ownNotice{pid, sc}
		c := v.own.m[k]
		v.own.m[k] = ownCount{n: c.n + 1, added: now}
	}
}

// unexpectOwn takes back what expectOwn recorded, for a transaction that
// did not commit.
func (v *availabilityVersion) unexpectOwn(pid uint32, ps []string) {
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	for _, sc := range ps {
		v.own.take(ownNotice{pid, sc})
	}
}

// isOwn reports whether the notification of scope from backend pid was
// announced by a commit of this process, and forgets it.
func (v *availabilityVersion) isOwn(pid uint32, scope string, now time.Time) bool {
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	k := ownNotice{pid, scope}
	c, ok := v.own.m[k]
	if !ok {
		return false
	}
	v.own.take(k)
	return now.Sub(c.added) <= ownNoticeTTL
}

// take removes one count of k.
func (o *ownNotices) take(k ownNotice) {
	c, ok := o.m[k]
	if !ok {
		return
	}
	if c.n <= 1 {
		delete(o.m, k)
		return
	}
	c.n--
	o.m[k] = c
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
