package booking_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

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
	waitlist := booking.WaitlistFeedTypes()
	if len(types) != len(evs)+len(waitlist) {
		t.Fatalf("FeedEventTypes has %d types, FeedEvents %d and the waitlist %d", len(types), len(evs), len(waitlist))
	}
	for i, e := range evs {
		if !e.InFeed() || types[i] != e.FeedType() {
			t.Errorf("FeedEventTypes()[%d] = %q, want %q (in the feed)", i, types[i], e.FeedType())
		}
	}
	for i, w := range waitlist {
		if got := types[len(evs)+i]; got != w || !booking.IsWaitlistFeedType(got) {
			t.Errorf("FeedEventTypes()[%d] = %q, want the waitlist's %q", len(evs)+i, got, w)
		}
		if got := booking.EventOfFeedType(w); got != "" {
			t.Errorf("EventOfFeedType(%q) = %q, want no booking event", w, got)
		}
	}
}

// TestWaitlistFeedChange checks which waitlist steps reach the live feed,
// under which type, and what each tells.
func TestWaitlistFeedChange(t *testing.T) {
	slot, bookingID := uuid.New(), uuid.New()
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	offer := &booking.WaitlistOffer{ID: uuid.New(), SlotID: slot, StartAt: at.Add(48 * time.Hour), ExpiresAt: at.Add(30 * time.Minute)}
	tests := []struct {
		step      booking.WaitlistEventType
		status    booking.WaitlistStatus
		wantType  string
		wantLapse booking.WaitlistLapse
		wantOffer bool
		wantBook  bool
	}{
		{booking.WaitlistJoined, booking.WaitlistWaiting, "", "", false, false},
		{booking.WaitlistOfferMade, booking.WaitlistOffered, "waitlist.offered", "", true, false},
		{booking.WaitlistAccepted, booking.WaitlistBooked, "waitlist.accepted", "", false, true},
		{booking.WaitlistDeclined, booking.WaitlistWaiting, "", "", false, false},
		{booking.WaitlistOfferLapsed, booking.WaitlistWaiting, "waitlist.lapsed", booking.LapsedOffer, false, false},
		{booking.WaitlistEntryLapsed, booking.WaitlistLapsed, "waitlist.lapsed", booking.LapsedEntry, false, false},
		{booking.WaitlistEntryLeft, booking.WaitlistLeft, "", "", false, false},
		{booking.WaitlistBookedElse, booking.WaitlistBooked, "", "", false, false},
	}
	for _, tc := range tests {
		e := booking.WaitlistEntry{ID: uuid.New(), Reference: "K7QM-4T2P", ConsultationTypeID: uuid.New(), Status: tc.status,
			Intake: booking.Intake{PainSeverity: new(7)}}
		if tc.status == booking.WaitlistOffered {
			e.Offer = offer
		}
		if tc.status == booking.WaitlistBooked {
			e.BookingID = &bookingID
		}
		ev := booking.WaitlistEvent{ID: uuid.New(), EntryID: e.ID, Type: tc.step, SlotID: &slot, Actor: booking.Actor{Type: booking.ActorSystem}, At: at}
		c, typ, ok := booking.FeedChange(e, ev)
		if ok != (tc.wantType != "") || typ != tc.wantType {
			t.Errorf("%s: type %q (reported %v), want %q", tc.step, typ, ok, tc.wantType)
			continue
		}
		if !ok {
			continue
		}
		if c.EntryID != e.ID || c.EventID != ev.ID || c.Reference != e.Reference || c.Status != tc.status || c.Lapse != tc.wantLapse ||
			(c.Offer != nil) != tc.wantOffer || (c.BookingID != nil) != tc.wantBook || !c.At.Equal(at) {
			t.Errorf("%s: got %+v", tc.step, c)
		}
	}
}
