package booking

import (
	"errors"
	"time"
)

// OfferWindow is whose booking window a question about free places is asked in.
type OfferWindow string

// The windows. The public books within MinNotice and MaxAdvance
// (PublicBookable). Staff book any open place (StaffRequest), so the desk
// is offered every place it could book that still makes sense to offer:
// one in a slot that has not ended (StaffOffered).
const (
	PublicWindow OfferWindow = "public"
	StaffWindow  OfferWindow = "staff"
)

// ParseOfferWindow parses "public" or "staff"; "" is the public window. It
// returns an error, whose message can be shown as a field message, for
// anything else.
func ParseOfferWindow(s string) (OfferWindow, error) {
	switch w := OfferWindow(s); w {
	case "":
		return PublicWindow, nil
	case PublicWindow, StaffWindow:
		return w, nil
	}
	return "", errors.New("must be public or staff")
}

// StaffOffered reports whether the desk is offered s at now: the slot is
// open, has a place left (live holds take places, as they do for a staff
// booking), and has not ended. So the desk sees, besides the public's
// places, those inside MinNotice (a caller who can come in an hour), those
// beyond MaxAdvance, and those of a slot in progress: a walk-in at the
// counter can still be seen in the rest of it, and the desk shows how long
// ago it started so the receptionist can judge. A slot that has ended is
// never offered, although staff may still record a booking in it by id.
func (p Policy) StaffOffered(s Slot, now time.Time) bool {
	return s.Status == SlotOpen && s.Remaining() > 0 && s.EndAt.After(now)
}

// Offers reports whether a question in window w at now is offered s:
// PublicBookable for the public window, StaffOffered for the staff one.
func (p Policy) Offers(w OfferWindow, s Slot, now time.Time) bool {
	if w == StaffWindow {
		return p.StaffOffered(s, now)
	}
	return p.PublicBookable(s, now)
}

// OfferedStarts bounds the starts of the slots Offers may accept in window
// w at now, so that a query can narrow its scan before Offers decides:
// BookableStarts for the public window; for the staff one, from
// MaxSlotLength before now (no longer slot can still be running) with no
// latest start (the zero time).
func (p Policy) OfferedStarts(w OfferWindow, now time.Time) (earliest, latest time.Time) {
	if w == StaffWindow {
		return now.Add(-MaxSlotLength), time.Time{}
	}
	return p.BookableStarts(now)
}
