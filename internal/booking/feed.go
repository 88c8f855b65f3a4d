package booking

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// feedPrefix starts the type of every booking's live-feed event:
// "booking." and the booking event type.
const feedPrefix = "booking."

// The live-feed (and webhook) types of the waitlist's steps: a place
// offered to an entry, an offer accepted (a booking was made: its own
// booking.created follows), and a lapse (an offer that ran out unaccepted,
// or an entry whose latest date passed; WaitlistChange.Lapse says which).
const (
	FeedWaitlistOffered  = "waitlist.offered"
	FeedWaitlistAccepted = "waitlist.accepted"
	FeedWaitlistLapsed   = "waitlist.lapsed"
)

// waitlistFeedPrefix starts the type of every waitlist live-feed event.
const waitlistFeedPrefix = "waitlist."

// FeedEvents lists, in the order the API lists them, the booking event
// types the live feed reports (and webhooks with it): every change of a
// booking's status or slot, and its flagging; not the edits of notes or
// contact details (EventUpdated). A new kind of change joins the feed when
// it is added here and to the API's FeedEventType, and tests hold the two
// lists equal.
func FeedEvents() []EventType {
	return []EventType{
		EventCreated, EventConfirmed, EventDeclined, EventCancelled,
		EventRescheduled, EventCheckedIn, EventCompleted, EventNoShow,
		EventExpired, EventReverted, EventFlagged,
	}
}

// FeedEventTypes returns the types of the live feed's events, in the
// order the API lists them: the booking events' ("booking.created", ...),
// in the order of FeedEvents, then the waitlist's (WaitlistFeedTypes).
func FeedEventTypes() []string {
	evs := FeedEvents()
	types := make([]string, 0, len(evs)+3)
	for _, t := range evs {
		types = append(types, t.FeedType())
	}
	return append(types, WaitlistFeedTypes()...)
}

// WaitlistFeedTypes returns the types of the waitlist's live-feed events.
func WaitlistFeedTypes() []string {
	return []string{FeedWaitlistOffered, FeedWaitlistAccepted, FeedWaitlistLapsed}
}

// IsWaitlistFeedType reports whether a live-feed event type is one of the
// waitlist's (its event carries a WaitlistChange, not a booking).
func IsWaitlistFeedType(feedType string) bool {
	return strings.HasPrefix(feedType, waitlistFeedPrefix)
}

// InFeed reports whether the live feed reports events of type t.
func (t EventType) InFeed() bool { return slices.Contains(FeedEvents(), t) }

// FeedType returns the type of t's live-feed event: "booking." and t.
func (t EventType) FeedType() string { return feedPrefix + string(t) }

// EventOfFeedType returns the booking event type a live-feed event type
// reports (the inverse of EventType.FeedType), and "" for a type that is
// not a booking's (a waitlist step).
func EventOfFeedType(feedType string) EventType {
	t, ok := strings.CutPrefix(feedType, feedPrefix)
	if !ok {
		return ""
	}
	return EventType(t)
}

// FeedType returns the live-feed type of waitlist step t, and false for
// the steps the feed does not report (joined, declined, left, booked
// elsewhere: the patient's or the entry's own business, or told by the
// booking's events).
func (t WaitlistEventType) FeedType() (string, bool) {
	switch t {
	case WaitlistOfferMade:
		return FeedWaitlistOffered, true
	case WaitlistAccepted:
		return FeedWaitlistAccepted, true
	case WaitlistOfferLapsed, WaitlistEntryLapsed:
		return FeedWaitlistLapsed, true
	}
	return "", false
}

// WaitlistLapse says what a waitlist.lapsed event ended.
type WaitlistLapse string

// What lapsed.
const (
	// LapsedOffer: an offer's hold ran out before the patient accepted it;
	// the entry waits again and the place goes to the next entry.
	LapsedOffer WaitlistLapse = "offer"
	// LapsedEntry: the entry's latest date passed; it is closed.
	LapsedEntry WaitlistLapse = "entry"
)

// WaitlistChange is what the live feed and webhooks tell of a waitlist
// step: the entry as it stood after the step, without the patient and
// without intake (a webhook leaves the clinic; the entry's reference leads
// staff to the rest).
type WaitlistChange struct {
	EventID            uuid.UUID // the step's id in the entry's history
	EntryID            uuid.UUID
	Reference          string
	Status             WaitlistStatus
	ConsultationTypeID uuid.UUID
	ProviderID         *uuid.UUID
	LocationID         *uuid.UUID
	// SlotID is the slot offered, accepted or whose offer lapsed; nil for
	// an entry's lapse.
	SlotID *uuid.UUID
	// Offer is the place held, for waitlist.offered only.
	Offer *WaitlistOffer
	// BookingID is the booking the accept made, for waitlist.accepted.
	BookingID *uuid.UUID
	// Lapse says what lapsed, for waitlist.lapsed.
	Lapse WaitlistLapse
	Actor ActorType
	At    time.Time
}

// FeedChange returns what the live feed tells of step ev of entry e (e as
// it stands after the step) and its feed type; ok is false for a step the
// feed does not report.
func FeedChange(e WaitlistEntry, ev WaitlistEvent) (change WaitlistChange, feedType string, ok bool) {
	feedType, ok = ev.Type.FeedType()
	if !ok {
		return WaitlistChange{}, "", false
	}
	c := WaitlistChange{
		EventID: ev.ID, EntryID: e.ID, Reference: e.Reference, Status: e.Status,
		ConsultationTypeID: e.ConsultationTypeID, ProviderID: e.ProviderID, LocationID: e.LocationID,
		SlotID: ev.SlotID, Actor: ev.Actor.Type, At: ev.At.UTC(),
	}
	switch ev.Type {
	case WaitlistOfferMade:
		if e.Offer != nil {
			o := *e.Offer
			c.Offer = &o
		}
	case WaitlistAccepted:
		c.BookingID = e.BookingID
	case WaitlistOfferLapsed:
		c.Lapse = LapsedOffer
	case WaitlistEntryLapsed:
		c.Lapse = LapsedEntry
	}
	return c, feedType, true
}
