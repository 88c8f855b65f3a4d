package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Status is a message's state as admins see it.
type Status string

// Message statuses.
const (
	StatusScheduled Status = "scheduled" // due later (a reminder)
	StatusPending   Status = "pending"   // due, being delivered or waiting for its next attempt
	StatusSent      Status = "sent"      // the receiver accepted it
	StatusFailed    Status = "failed"    // given up; an admin may retry it
	// StatusSkipped is a message not sent because it became moot before it
	// went out (see Skipped): superseded by a newer message about the same
	// booking, a reminder of an appointment no longer confirmed.
	StatusSkipped Status = "skipped"
	// StatusAny lists messages in every status (ListAbout); no message
	// is in it.
	StatusAny Status = ""
)

// ParseStatus parses a Status as the API spells it.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusScheduled, StatusPending, StatusSent, StatusFailed, StatusSkipped:
		return st, nil
	}
	return "", errors.New("must be one of scheduled, pending, sent, failed, skipped")
}

func (s Status) states() []rivertype.JobState {
	switch s {
	case StatusAny:
		return []rivertype.JobState{rivertype.JobStateScheduled, rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable,
			rivertype.JobStatePending, rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded}
	case StatusScheduled:
		return []rivertype.JobState{rivertype.JobStateScheduled}
	case StatusPending:
		return []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStatePending}
	case StatusSent, StatusSkipped:
		return []rivertype.JobState{rivertype.JobStateCompleted}
	default:
		return []rivertype.JobState{rivertype.JobStateCancelled, rivertype.JobStateDiscarded}
	}
}

// skippedSQL is true of a job row that ended skipped: completed with the
// reason recorded as its output (see worker.Work). The same JSON operators
// read it on PostgreSQL (jsonb) and SQLite (3.38 and later).
const skippedSQL = "(metadata -> 'output' ->> 'skipped') IS NOT NULL"

// skipReason returns why a completed job was skipped ("" when it was sent).
func skipReason(j *rivertype.JobRow) string {
	var md struct {
		Output struct {
			Skipped string `json:"skipped"`
		} `json:"output"`
	}
	if len(j.Metadata) == 0 || json.Unmarshal(j.Metadata, &md) != nil {
		return ""
	}
	return md.Output.Skipped
}

func statusOf(j *rivertype.JobRow) Status {
	switch j.State {
	case rivertype.JobStateScheduled:
		return StatusScheduled
	case rivertype.JobStateCompleted:
		if skipReason(j) != "" {
			return StatusSkipped
		}
		return StatusSent
	case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return StatusFailed
	}
	return StatusPending
}

// Message is one message of the queue, as admins see it.
type Message struct {
	ID            int64
	Kind          string
	Status        Status
	Attempts      int
	CreatedAt     time.Time
	ScheduledAt   time.Time  // when it is or was due
	NextAttemptAt *time.Time // pending or scheduled ones
	LastAttemptAt *time.Time
	LastError     string // for a skipped message, why it was skipped
	FinishedAt    *time.Time
	Args          json.RawMessage // the job's arguments: ids, never message text
}

func messageOf(j *rivertype.JobRow) Message {
	m := Message{ID: j.ID, Kind: j.Kind, Status: statusOf(j), Attempts: j.Attempt,
		CreatedAt: j.CreatedAt, ScheduledAt: j.ScheduledAt, LastAttemptAt: j.AttemptedAt, FinishedAt: j.FinalizedAt, Args: j.EncodedArgs}
	if m.Status == StatusPending || m.Status == StatusScheduled {
		at := j.ScheduledAt
		m.NextAttemptAt = &at
	}
	if n := len(j.Errors); n > 0 {
		// River prefixes the error that cancelled a job with its type.
		m.LastError = strings.TrimPrefix(j.Errors[n-1].Error, "JobCancelError: ")
	}
	if m.Status == StatusSkipped {
		m.LastError = skipReason(j)
	}
	return m
}

// Errors of List and Retry.
var (
	ErrNotFound  = errors.New("no such message")
	ErrNotFailed = errors.New("message has not failed")
	ErrBadCursor = errors.New("bad cursor")
)

// List returns up to limit messages of the given kinds in status, newest
// first, after cursor (from a previous call; "" for the first page), and
// the cursor of the next page ("" when there is none). It returns
// ErrBadCursor for a cursor it did not make.
//
// The cursor is the id of the last message of the page: pages run down the
// queue's ids, so a message is listed once however many are written or
// change status meanwhile (one that changes status moves to that status's
// list). River's own list cursors cannot be made from a job alone, only
// from the last row it read, which is the one past the page here.
func (q *Queue) List(ctx context.Context, status Status, kinds []string, cursor string, limit int) ([]Message, string, error) {
	return q.list(ctx, status, kinds, nil, cursor, limit)
}

// ListAbout is List narrowed to the messages whose argument field (a
// top-level string of the job's arguments, such as "booking_id") holds
// one of values; status may be StatusAny. No values: no messages.
func (q *Queue) ListAbout(ctx context.Context, status Status, kinds []string, field string, values []string, cursor string, limit int) ([]Message, string, error) {
	if !argField.MatchString(field) {
		return nil, "", fmt.Errorf("list messages: bad argument field %q", field)
	}
	if len(values) == 0 {
		if cursor != "" {
			if _, err := parseCursor(cursor); err != nil {
				return nil, "", err
			}
		}
		return []Message{}, "", nil
	}
	names := make([]string, len(values))
	args := river.NamedArgs{}
	for i, v := range values {
		names[i] = "@about_" + strconv.Itoa(i)
		args["about_"+strconv.Itoa(i)] = v
	}
	// The same operator reads the arguments on PostgreSQL (jsonb) and
	// SQLite (3.38 and later), as skippedSQL does.
	where := func(p *river.JobListParams) *river.JobListParams {
		return p.Where("(args ->> '"+field+"') IN ("+strings.Join(names, ", ")+")", args)
	}
	return q.list(ctx, status, kinds, where, cursor, limit)
}

// argField is the shape of an argument field ListAbout may name; it is
// written into the query, so nothing else is.
var argField = regexp.MustCompile(`^[a-z][a-z_]{0,40}$`)

func (q *Queue) list(ctx context.Context, status Status, kinds []string, where func(*river.JobListParams) *river.JobListParams, cursor string, limit int) ([]Message, string, error) {
	p := river.NewJobListParams().States(status.states()...).Kinds(kinds...).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(limit + 1)
	if where != nil {
		p = where(p)
	}
	switch status {
	case StatusSent:
		p = p.Where("NOT " + skippedSQL)
	case StatusSkipped:
		p = p.Where(skippedSQL)
	}
	if cursor != "" {
		before, err := parseCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		p = p.Where("id < @before_id", river.NamedArgs{"before_id": before})
	}
	res, err := q.client.JobList(ctx, p)
	if err != nil {
		return nil, "", fmt.Errorf("list messages: %w", err)
	}
	jobs := res.Jobs
	next := ""
	if len(jobs) > limit {
		jobs = jobs[:limit]
		next = cursorPrefix + strconv.FormatInt(jobs[limit-1].ID, 36)
	}
	out := make([]Message, len(jobs))
	for i, j := range jobs {
		out[i] = messageOf(j)
	}
	return out, next, nil
}

// cursorPrefix starts the cursors of List, so that another list's cursor is
// not taken for one.
const cursorPrefix = "m1."

func parseCursor(c string) (int64, error) {
	rest, ok := strings.CutPrefix(c, cursorPrefix)
	if !ok {
		return 0, ErrBadCursor
	}
	id, err := strconv.ParseInt(rest, 36, 64)
	if err != nil || id <= 0 {
		return 0, ErrBadCursor
	}
	return id, nil
}

// Get returns message id if its kind is one of kinds; ErrNotFound
// otherwise.
func (q *Queue) Get(ctx context.Context, id int64, kinds []string) (Message, error) {
	j, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return Message{}, ErrNotFound
	}
	if err != nil {
		return Message{}, fmt.Errorf("get message: %w", err)
	}
	for _, k := range kinds {
		if j.Kind == k {
			return messageOf(j), nil
		}
	}
	return Message{}, ErrNotFound
}

// Retry makes failed message id (of one of kinds) due again now, with a new
// give-up period; its id, and so what receivers see as its id, stay. It
// returns ErrNotFound or ErrNotFailed.
func (q *Queue) Retry(ctx context.Context, id int64, kinds []string) (Message, error) {
	m, err := q.Get(ctx, id, kinds)
	if err != nil {
		return Message{}, err
	}
	if m.Status != StatusFailed {
		return Message{}, ErrNotFailed
	}
	j, err := q.client.JobRetry(ctx, id)
	if err != nil {
		return Message{}, fmt.Errorf("retry message: %w", err)
	}
	return messageOf(j), nil
}

// Backlog returns how many messages are due and not yet delivered (waiting,
// being delivered, or waiting for a retry) and when the oldest of those
// still waiting for a worker became due (zero when none is).
func (q *Queue) Backlog(ctx context.Context) (pending int, oldestDue time.Time, err error) {
	row := q.db.QueryRowContext(ctx,
		"SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'pending')")
	if err := row.Scan(&pending); err != nil {
		return 0, time.Time{}, fmt.Errorf("message backlog: %w", err)
	}
	var id int64
	err = q.db.QueryRowContext(ctx,
		"SELECT id FROM river_job WHERE state IN ('available', 'running') ORDER BY scheduled_at, id LIMIT 1").Scan(&id)
	switch {
	case err == nil:
	case errors.Is(err, sql.ErrNoRows):
		return pending, time.Time{}, nil
	default:
		return 0, time.Time{}, fmt.Errorf("message backlog: %w", err)
	}
	j, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return pending, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("message backlog: %w", err)
	}
	return pending, j.ScheduledAt, nil
}
