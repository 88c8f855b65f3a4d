package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// listenAvailability returns a connection listening on the availability
// channel, for the notifications of url's schema: the channel is the
// database's, and other tests' schemas announce on it at the same time.
func listenAvailability(t *testing.T, url string) *noticeListener {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "LISTEN clinic_availability"); err != nil {
		t.Fatal(err)
	}
	return &noticeListener{conn: conn, schema: schema}
}

// noticeListener is a connection listening on the availability channel,
// for the notifications of one schema.
type noticeListener struct {
	conn   *pgx.Conn
	schema string
}

// nextNotice returns the next notification of l's schema that l receives
// within d, nil when none comes.
func nextNotice(t *testing.T, l *noticeListener, d time.Duration) *pgconn.Notification {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		n, err := l.conn.WaitForNotification(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(n.Payload, l.schema+" ") {
			return n
		}
	}
}

// drainNotices reads l's notifications until none has come for d.
func drainNotices(t *testing.T, l *noticeListener, d time.Duration) {
	t.Helper()
	for nextNotice(t, l, d) != nil {
	}
}

// commitWithoutStep books a place of slot id in a transaction of its own,
// as a writer that died between its commit and the step after it leaves
// it (and as a maintenance script writes), and returns the backend's pid.
func commitWithoutStep(t *testing.T, db *sql.DB, id string) uint32 {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	var pid uint32
	if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE slots SET booked = booked + 1 WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return pid
}

// On PostgreSQL a writing transaction sends no notification (a NOTIFY
// would hold the database's notification lock through its commit): its
// changes wait in availability_pending, and a step after the commit
// announces them. A change whose step never ran (the writer died between
// its commit and the step) is announced by the next store to open the
// database, or by a listening instance's poll: the other instances see it
// all the same.
func TestAvailabilityNoticesAfterCommit(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	a := storetest.Open(t, url)
	f := newFixture(t, a, "UTC")
	sl := f.slot(time.Now().Add(72*time.Hour).Truncate(time.Hour), time.Hour)
	sl.Capacity = 5
	if err := a.CreateSlot(ctx, sl); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	queued := func() int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM availability_pending").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	scope := schema + " " + f.provider.ID.String() + "/"
	isSlotNotice := func(n *pgconn.Notification) bool {
		return strings.HasPrefix(n.Payload, scope) && strings.HasSuffix(n.Payload, "/"+sl.ID.String())
	}

	l := listenAvailability(t, url)
	drainNotices(t, l, 300*time.Millisecond) // the slot's creation

	// No instance listens (a never asked for a version): nothing polls.
	writer := commitWithoutStep(t, db, sl.ID.String())
	if n := nextNotice(t, l, 1500*time.Millisecond); n != nil {
		t.Errorf("after a commit without its step: got notification %q from pid %d (the writer is %d), want none", n.Payload, n.PID, writer)
	}
	if got, want := queued(), 1; got != want {
		t.Fatalf("changes queued after the commit: got %d, want %d", got, want)
	}
	// The next store to open announces it.
	storetest.Open(t, url)
	if got, want := queued(), 0; got != want {
		t.Errorf("changes queued once a store has opened: got %d, want %d", got, want)
	}
	n := nextNotice(t, l, 2*time.Second)
	switch {
	case n == nil:
		t.Error("no notification after a store opened, want the queued change's")
	case !isSlotNotice(n):
		t.Errorf("notification after a store opened: got %q, want the slot's place change %s.../%s", n.Payload, scope, sl.ID)
	case n.PID == writer:
		t.Errorf("the notification came from the writer's backend %d", writer)
	}

	// Another instance that listens sees such a change too, through its
	// poll, and a store's own booking through the step after its commit.
	b := storetest.Open(t, url)
	for _, w := range []struct {
		name  string
		write func()
	}{
		{"a writer that died after its commit", func() { commitWithoutStep(t, db, sl.ID.String()) }},
		{"a booking on a", func() {
			if _, err := a.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), nil); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		settle(t, b)
		before := versionOf(t, b, f.provider.ID)
		w.write()
		deadline := time.Now().Add(5 * time.Second)
		for versionOf(t, b, f.provider.ID) == before {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the other instance's version did not move within 5s", w.name)
			}
			time.Sleep(time.Millisecond)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for queued() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("changes still queued 5s after the last write: %d", queued())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Migration 104 upgrades a database whose triggers notified in the writing
// transaction (here: made by this build, then moved down below 104) and keeps
// every booking working and every change announced; moved down, it
// announces what is still queued and its triggers notify again.
func TestAvailabilityNoticesMigration(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	s := storetest.Open(t, url)
	f := newFixture(t, s, "UTC")
	sl := f.slot(time.Now().Add(72*time.Hour).Truncate(time.Hour), time.Hour)
	sl.Capacity = 5
	if err := s.CreateSlot(ctx, sl); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := listenAvailability(t, url)
	// A change a crash left queued is announced on the way down.
	if _, err := db.ExecContext(ctx, "INSERT INTO availability_pending (scope) VALUES ($1)", f.provider.ID.String()); err != nil {
		t.Fatal(err)
	}
	if err := store.MigratePostgresDownTo(ctx, url, 103); err != nil {
		t.Fatalf("down below 104: %v", err)
	}
	if n := nextNotice(t, l, 2*time.Second); n == nil || !strings.HasSuffix(n.Payload, " "+f.provider.ID.String()) {
		t.Errorf("on the way down: got notification %v, want the queued change's", n)
	}
	// Below 104 the writer notifies itself, at its commit.
	writer := commitWithoutStep(t, db, sl.ID.String())
	if n := nextNotice(t, l, 2*time.Second); n == nil || n.PID != writer {
		t.Errorf("below 104: got notification %v, want one from the writer %d", n, writer)
	}

	// Up again: bookings still work, and their changes are announced by
	// the step after their commit, not by the writer.
	s = storetest.Open(t, url)
	if list, _, err := s.ListBookings(ctx, store.BookingFilter{}); err != nil || len(list) != 1 {
		t.Errorf("bookings after the upgrade: got %d (%v), want 1", len(list), err)
	}
	drainNotices(t, l, 300*time.Millisecond)
	if _, err := s.CreateBooking(ctx, sl.ID, webDraft(t, sl.ID, nil), nil); err != nil {
		t.Fatalf("a booking after the upgrade: %v", err)
	}
	if n := nextNotice(t, l, 2*time.Second); n == nil || !strings.HasSuffix(n.Payload, "/"+sl.ID.String()) {
		t.Errorf("after the upgrade: got notification %v, want the booked slot's", n)
	}
	var booked int
	if err := db.QueryRowContext(ctx, "SELECT booked FROM slots WHERE id = $1", sl.ID.String()).Scan(&booked); err != nil {
		t.Fatal(err)
	}
	if got, want := booked, 3; got != want {
		t.Errorf("places booked: got %d, want %d", got, want)
	}
}
