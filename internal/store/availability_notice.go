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
// process's place changes (expectOwn, with the step's backend pid).

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
// seqs sent and this process's own place scopes among them, with the
// step's backend pid, which the caller hands to expectOwn before the
// commit and takes back (unexpectOwn) should the commit fail.
func (s *Store) sendAvailabilityNotices(ctx context.Context, tx *sql.Tx) (seqs []int64, own []string, pid uint32, err error) {
	rows, err := tx.QueryContext(ctx, availabilityPendingSQL)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("queued availability changes: %w", err)
	}
	defer rows.Close()
	var scopes []string
	mine := map[string]bool{} // scope: every row of it is this process's place change
	for rows.Next() {
		var seq int64
		var scope string
		var backend int64
		if err := rows.Scan(&seq, &scope, &backend); err != nil {
			return nil, nil, 0, fmt.Errorf("queued availability changes: %w", err)
		}
		pid = uint32(backend)
		seqs = append(seqs, seq)
		_, place := parsePlaceScope(scope)
		isOwn := place && s.avail.isOwnRow(seq)
		if was, seen := mine[scope]; seen {
			mine[scope] = was && isOwn
			continue
		}
		mine[scope] = isOwn
		scopes = append(scopes, scope)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, 0, fmt.Errorf("queued availability changes: %w", err)
	}
	rows.Close()
	if len(scopes) == 0 {
		return nil, nil, 0, nil
	}
	if len(scopes) > maxNoticeScopes {
		scopes = []string{"*"}
	}
	for _, sc := range scopes {
		if mine[sc] {
			own = append(own, sc)
		}
	}
	if _, err := tx.ExecContext(ctx, availabilityNotifySQL, availabilityChannel, scopes); err != nil {
		return nil, nil, 0, fmt.Errorf("announce availability changes: %w", err)
	}
	return seqs, own, pid, nil
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
