package store

import (
	"testing"
)

// Migration 00089 copies SQLite's feed_events into its new shape: the
// booking changes already on the feed stay, with their ids, and a row must
// name a booking or a waitlist entry, not neither; going down keeps the
// booking changes.
func TestWaitlistFeedMigrationKeepsTheFeed(t *testing.T) {
	ctx, db, p := oldBooking(t, 88)
	if _, err := db.ExecContext(ctx, `INSERT INTO feed_events (id, booking_id, type, occurred_at, booking)
		VALUES (7, 'b1', 'booking.created', '2026-11-20 10:00:00', '{}')`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 89); err != nil {
		t.Fatal(err)
	}
	var booking string
	var entry *string
	if err := db.QueryRowContext(ctx, "SELECT booking_id, waitlist_entry_id FROM feed_events WHERE id = 7").Scan(&booking, &entry); err != nil {
		t.Fatalf("the booking's feed event after 00089: %v", err)
	}
	if booking != "b1" || entry != nil {
		t.Errorf("after 00089: booking %q, entry %v, want b1 and none", booking, entry)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO feed_events (id, type, occurred_at, booking)
		VALUES (8, 'waitlist.offered', '2026-11-20 10:00:00', '{}')`); err == nil {
		t.Error("a feed event of neither a booking nor an entry was accepted")
	}
	if _, err := p.DownTo(ctx, 88); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM feed_events WHERE id = 7 AND booking_id = 'b1'").Scan(&n); err != nil || n != 1 {
		t.Errorf("after going down: %d rows, %v; want the booking's event", n, err)
	}
}
