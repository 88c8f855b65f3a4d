package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// Each waitlist step the feed reports (an offer made, accepted, lapsed; an
// entry lapsed) appends one feed event in its own transaction, with the
// entry as it stood after it and nothing of the patient; the steps it does
// not report, and a step that fails, append none. WaitlistCounts counts
// the same steps.
func TestWaitlistStepsOnTheFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sl1 := catalogue(t, s)(1, booking.SlotOpen)
		sl2 := catalogue(t, s)(1, booking.SlotOpen)
		sl3 := catalogue(t, s)(1, booking.SlotOpen)
		e1, _, _, err := joinFor(t, s, sl1.ConsultationTypeID, "+14245550123", "ana@example.com", []string{"none"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		e2, _, _, err := joinFor(t, s, sl2.ConsultationTypeID, "+14245550124", "bo@example.com", []string{"none"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		e3, _, _, err := joinFor(t, s, sl3.ConsultationTypeID, "+14245550125", "cy@example.com", []string{"none"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		start, err := s.LastFeedID(ctx)
		if err != nil {
			t.Fatal(err)
		}

		// e1: offered, then accepted.
		made, err := offerTo(t, s, e1.ID, sl1.ID, 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		// A failed step writes nothing: a slot of another type.
		if _, err := offerTo(t, s, e2.ID, sl1.ID, 30*time.Minute); err == nil {
			t.Fatal("offer of another type's slot: no error")
		}
		var token string
		acc, err := s.AcceptWaitlistOffer(ctx, e1.ID, publicDraft(&token))
		if err != nil {
			t.Fatal(err)
		}
		if acc.OfferedAt.IsZero() || acc.Booking.CreatedAt.Before(acc.OfferedAt) {
			t.Errorf("accepted: offered at %v, booked at %v, want the offer first", acc.OfferedAt, acc.Booking.CreatedAt)
		}
		// e2: an offer that runs out; e3: its dates passed. The sweep
		// lapses the offer, then the entry (before it could be offered
		// sl3).
		if _, err := offerTo(t, s, e2.ID, sl2.ID, time.Second); err != nil {
			t.Fatal(err)
		}
		if err := store.SetWaitlistLatest(ctx, s, e3.ID, booking.DateOf(time.Now(), time.UTC).AddDays(-3)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond)
		if made := passOn(t, s); len(made) != 0 {
			t.Errorf("the sweep made %d offers, want none (e2 had sl2 once, e3 lapsed)", len(made))
		}
		// A decline and a leave are not reported.
		if _, err := s.LeaveWaitlist(ctx, e2.ID, booking.Actor{Type: booking.ActorPatient}); err != nil {
			t.Fatal(err)
		}

		events, err := s.FeedEvents(ctx, start, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []store.FeedEvent
		for _, ev := range events {
			if booking.IsWaitlistFeedType(ev.Type) {
				got = append(got, ev)
				if ev.Waitlist == nil || ev.BookingEvent() != "" || ev.EventID != ev.Waitlist.EventID {
					t.Errorf("feed event %d (%s): waitlist %v, booking event %q", ev.ID, ev.Type, ev.Waitlist, ev.BookingEvent())
				}
			} else if ev.Waitlist != nil {
				t.Errorf("booking feed event %d (%s) carries a waitlist step", ev.ID, ev.Type)
			}
		}
		want := []struct {
			typ    string
			entry  booking.WaitlistEntry
			status booking.WaitlistStatus
			lapse  booking.WaitlistLapse
		}{
			{booking.FeedWaitlistOffered, e1, booking.WaitlistOffered, ""},
			{booking.FeedWaitlistAccepted, e1, booking.WaitlistBooked, ""},
			{booking.FeedWaitlistOffered, e2, booking.WaitlistOffered, ""},
			{booking.FeedWaitlistLapsed, e2, booking.WaitlistWaiting, booking.LapsedOffer},
			{booking.FeedWaitlistLapsed, e3, booking.WaitlistLapsed, booking.LapsedEntry},
		}
		if len(got) != len(want) {
			for _, ev := range got {
				t.Logf("got %s %s", ev.Type, ev.Waitlist.Reference)
			}
			t.Fatalf("got %d waitlist feed events, want %d", len(got), len(want))
		}
		for i, w := range want {
			c := got[i].Waitlist
			if got[i].Type != w.typ || c.EntryID != w.entry.ID || c.Reference != w.entry.Reference || c.Status != w.status ||
				c.Lapse != w.lapse || c.ConsultationTypeID != w.entry.ConsultationTypeID {
				t.Errorf("event %d: got %s %+v, want %s of %s, %s, lapse %q", i, got[i].Type, *c, w.typ, w.entry.Reference, w.status, w.lapse)
			}
		}
		if o := got[0].Waitlist.Offer; o == nil || o.SlotID != sl1.ID || !o.ExpiresAt.Equal(made.Entry.Offer.ExpiresAt) || !o.StartAt.Equal(sl1.StartAt) {
			t.Errorf("offered: offer %+v, want slot %s until %v", o, sl1.ID, made.Entry.Offer.ExpiresAt)
		}
		if b := got[1].Waitlist.BookingID; b == nil || *b != acc.Booking.ID {
			t.Errorf("accepted: booking %v, want %s", b, acc.Booking.ID)
		}
		if s := got[3].Waitlist.SlotID; s == nil || *s != sl2.ID || got[3].Waitlist.Offer != nil {
			t.Errorf("offer lapsed: slot %v offer %v, want slot %s and no offer", s, got[3].Waitlist.Offer, sl2.ID)
		}

		counts, err := s.WaitlistCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		steps := map[booking.WaitlistEventType]int64{
			booking.WaitlistOfferMade: 2, booking.WaitlistAccepted: 1, booking.WaitlistOfferLapsed: 1, booking.WaitlistEntryLapsed: 1,
			booking.WaitlistJoined: 3, booking.WaitlistEntryLeft: 1,
		}
		if counts.Waiting != 0 || counts.Offered != 0 {
			t.Errorf("counts: waiting %d offered %d, want 0 and 0", counts.Waiting, counts.Offered)
		}
		for typ, n := range steps {
			if counts.Steps[typ] != n {
				t.Errorf("counts: %s = %d, want %d", typ, counts.Steps[typ], n)
			}
		}
	})
}
