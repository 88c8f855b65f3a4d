package booking

import (
	"slices"
	"strings"
)

// feedPrefix starts the type of every live-feed event: "booking." and the
// booking event type.
const feedPrefix = "booking."

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

// FeedEventTypes returns the types of the live feed's events
// ("booking.created", ...), in the order of FeedEvents.
func FeedEventTypes() []string {
	evs := FeedEvents()
	types := make([]string, len(evs))
	for i, t := range evs {
		types[i] = t.FeedType()
	}
	return types
}

// InFeed reports whether the live feed reports events of type t.
func (t EventType) InFeed() bool { return slices.Contains(FeedEvents(), t) }

// FeedType returns the type of t's live-feed event: "booking." and t.
func (t EventType) FeedType() string { return feedPrefix + string(t) }

// EventOfFeedType returns the booking event type a live-feed event type
// reports (the inverse of EventType.FeedType).
func EventOfFeedType(feedType string) EventType {
	return EventType(strings.TrimPrefix(feedType, feedPrefix))
}
