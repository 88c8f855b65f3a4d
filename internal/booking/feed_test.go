package booking_test

import (
	"testing"

	"github.com/clinic/consult/internal/booking"
)

// TestFeedTypes checks which booking events the live feed reports, and
// that a feed event type maps back to its booking event.
func TestFeedTypes(t *testing.T) {
	tests := []struct {
		event  booking.EventType
		typ    string
		inFeed bool
	}{
		{booking.EventCreated, "booking.created", true},
		{booking.EventConfirmed, "booking.confirmed", true},
		{booking.EventNoShow, "booking.no_show", true},
		{booking.EventReverted, "booking.reverted", true},
		{booking.EventFlagged, "booking.flagged", true},
		{booking.EventUpdated, "booking.updated", false},
	}
	for _, tc := range tests {
		if got := tc.event.FeedType(); got != tc.typ {
			t.Errorf("%s.FeedType() = %q, want %q", tc.event, got, tc.typ)
		}
		if got := tc.event.InFeed(); got != tc.inFeed {
			t.Errorf("%s.InFeed() = %v, want %v", tc.event, got, tc.inFeed)
		}
		if got := booking.EventOfFeedType(tc.typ); got != tc.event {
			t.Errorf("EventOfFeedType(%q) = %q, want %q", tc.typ, got, tc.event)
		}
	}
	evs, types := booking.FeedEvents(), booking.FeedEventTypes()
	if len(types) != len(evs) {
		t.Fatalf("FeedEventTypes has %d types, FeedEvents %d", len(types), len(evs))
	}
	for i, e := range evs {
		if !e.InFeed() || types[i] != e.FeedType() {
			t.Errorf("FeedEventTypes()[%d] = %q, want %q (in the feed)", i, types[i], e.FeedType())
		}
	}
}
