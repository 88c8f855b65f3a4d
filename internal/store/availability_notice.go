package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// On PostgreSQL, availability changes are announced after their commit,
// never inside the writing transaction (migration 00104): a NOTIFY takes a
// lock of the whole database from just before its transaction commits
// until the commit is durable, so booking writers that each notified
// committed one at a time, a disk flush each.
//
// A writing transaction's triggers queue the scopes it changed in
// availability_pending (and name the rows' seqs in the transaction-local
// setting clinic.availability_pending). After the commit, Store.tx asks
// for the step that also numbers the feed (feedNumberer: one short
// transaction, run by one goroutine for every commit that asked before it
// started), which deletes every queued row and sends one notification per
// distinct scope, with the payload the listeners have always read ("schema
// scope"), delivered at its commit. So the NOTIFY lock is taken once per
// batch of commits, by a transaction no client waits for.
//
// Nothing committed goes unannounced: a row stays queued until a
// transaction that notifies deletes it. What a crash leaves between a
// commit and its step, and what writers other than a store queue (a
// maintenance script's UPDATE fires the same triggers), is sent by the
// next store to open the database (Open runs the step) or, within
// pendingPoll, by any instance whose availability listener runs.
//
// The writing instance reads the place changes of its own commits itself
// (endAvailability), so its listener skips their notifications (see
// ownNotices): flushAvailability records the seqs of its rows before the
// commit (expectRows), and the step, which sends them from a backend of
// its own, tells the listener which of the scopes it sends are wholly this
// process's place changes (expectSent, with the step's backend pid).

// availabilityPendingSQL deletes every queued availability change (see
// sendAvailabilityNotices); the step's backend pid comes with each row.
const availabilityPendingSQL = "DELETE FROM availability_pending RETURNING seq, scope, pg_backend_pid()"

// availabilityNotifySQL announces the scopes $2 on the channel $1, one
// notification each, delivered at the commit of the transaction it runs in.
const availabilityNotifySQL = "SELECT count(pg_notify($1, current_schema() || ' ' || sc)) FROM unnest($2::text[]) AS sc"

// maxNoticeScopes bounds the notifications of one step: a batch with more
// distinct scopes (rows left by a long outage, say) announces '*',
// everything, once.
const maxNoticeScopes = 256

// pendingPoll is how often a listening instance looks for queued changes
// that no step has sent (see availabilityVersion.listen); the look also
// checks that its connection still answers.
const pendingPoll = time.Second

// sendAvailabilityNotices, inside the step's transaction tx, deletes every
// queued availability change and announces its scopes. It returns the
// seqs sent, the scopes announced and this process's own place scopes
// among them, with the step's backend pid, which the caller hands to
// expectSent before the commit and takes back (unexpectSent) should the
// commit fail.
func (s *Store) sendAvailabilityNotices(ctx context.Context, tx *sql.Tx) (seqs []int64, scopes, own []string, pid uint32, err error) {
	rows, err := tx.QueryContext(ctx, availabilityPendingSQL)
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("queued availability changes: %w", err)
	}
	defer rows.Close()
	var queued []queuedChange
	for rows.Next() {
		var q queuedChange
		var backend int64
		if err := rows.Scan(&q.seq, &q.scope, &backend); err != nil {
			return nil, nil, nil, 0, fmt.Errorf("queued availability changes: %w", err)
		}
		pid = uint32(backend)
		queued = append(queued, q)
		seqs = append(seqs, q.seq)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, 0, fmt.Errorf("queued availability changes: %w", err)
	}
	rows.Close()
	if len(queued) == 0 {
		return nil, nil, nil, 0, nil
	}
	scopes, own = noticeScopes(queued, s.avail.isOwnRow)
	if _, err := tx.ExecContext(ctx, availabilityNotifySQL, availabilityChannel, scopes); err != nil {
		return nil, nil, nil, 0, fmt.Errorf("announce availability changes: %w", err)
	}
	return seqs, scopes, own, pid, nil
}

// queuedChange is a row of availability_pending.
type queuedChange struct {
	seq   int64
	scope string
}

// noticeScopes returns the distinct scopes of queued, in order, to be
// announced (everything, '*', once, when there are more than
// maxNoticeScopes), and those of them that are this process's own place
// changes: every row of the scope is a place change that isOwnRow reports
// this process queued, and so read after its commit. A scope that another
// writer queued too is read by this process's listener as well.
func noticeScopes(queued []queuedChange, isOwnRow func(seq int64) bool) (scopes, own []string) {
	mine := map[string]bool{}
	for _, q := range queued {
		_, place := parsePlaceScope(q.scope)
		isOwn := place && isOwnRow(q.seq)
		if was, seen := mine[q.scope]; seen {
			mine[q.scope] = was && isOwn
			continue
		}
		mine[q.scope] = isOwn
		scopes = append(scopes, q.scope)
	}
	if len(scopes) > maxNoticeScopes {
		return []string{"*"}, nil
	}
	for _, sc := range scopes {
		if mine[sc] {
			own = append(own, sc)
		}
	}
	return scopes, own
}

// parsePendingSeqs reads the transaction-local list of the rows a
// transaction queued in availability_pending (space-separated seqs).
func parsePendingSeqs(list string) ([]int64, error) {
	var seqs []int64
	for f := range strings.FieldsSeq(list) {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("queued availability change %q: %w", f, err)
		}
		seqs = append(seqs, n)
	}
	return slices.Clip(seqs), nil
}
