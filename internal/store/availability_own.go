package store

import (
	"time"
)

// ownNotices are the place changes this process's own PostgreSQL
// transactions announced, by the backend that committed them, whose
// NOTIFY the listener is still to receive. The writing instance reads a
// place change's slot once after its own commit (endAvailability), before
// the writing call returns; the NOTIFY of that same commit reaches its
// listener too, and reading the slot again there would only hand the
// caches the state they already have (or a newer one, which the write that
// made it announces in a notification of its own). So the listener skips a
// notification it finds here and reads every other one, other instances'
// above all.
//
// A notification is matched by the backend's pid (pg_backend_pid(), read
// with the scopes before the commit) and the scope: a transaction announces
// a scope once (availability_changed), and PostgreSQL delivers one
// notification per distinct payload of a transaction. Entries are added
// before the commit, so one is there when its notification arrives, however
// soon; a transaction that did not commit takes its entries back. An entry
// whose notification never came (the listener was reconnecting, or a
// commit failed after reaching the server) is forgotten when the listener
// reconnects or after ownNoticeTTL, so that a later backend given the same
// pid cannot have its notification skipped.
type ownNotices struct {
	m map[ownNotice]ownCount
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

// expect records that backend pid's transaction is about to commit, and
// announce, the place scopes ps; v.placeMu is not held.
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

// forgetOwn drops every entry: the listener (re)connected, and whatever it
// missed meanwhile moved every version.
func (v *availabilityVersion) forgetOwn() {
	v.ownMu.Lock()
	defer v.ownMu.Unlock()
	clear(v.own.m)
}
