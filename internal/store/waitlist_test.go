package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// joinFor adds a web entry for slot's consultation type, from today for ten
// days, for the patient with phone and email; it returns the entry (as the
// store gave it back) and its manage token.
func joinFor(t *testing.T, s *store.Store, typeID uuid.UUID, phone, email string, flags []string, maxLive int) (booking.WaitlistEntry, string, bool, error) {
	t.Helper()
	got, token, err := joinWith(t, s, typeID, phone, email, flags, store.JoinOptions{MaxLive: maxLive})
	return got.Entry, token, got.Existing, err
}

// joinWith is joinFor with the join's options; it returns what the store
// did.
func joinWith(t *testing.T, s *store.Store, typeID uuid.UUID, phone, email string, flags []string, o store.JoinOptions) (store.Joined, string, error) {
	t.Helper()
	sev, yes, reason := 7, true, "lower back spasms"
	today := booking.DateOf(time.Now(), time.UTC)
	req, err := booking.ParseWaitlist(booking.WaitlistInput{
		ConsultationTypeID: typeID.String(), EarliestDate: today.String(), LatestDate: today.AddDays(10).String(),
		Patient: booking.PatientInput{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: phone, Email: email},
		Intake:  booking.IntakeInput{RedFlags: flags, PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes, ContactByEmail: &yes},
	}, time.Now().UTC(), false)
	if err != nil {
		t.Fatal(err)
	}
	e, ev, token, err := booking.NewWaitlistEntry(req, booking.SourceWeb, booking.Actor{Type: booking.ActorPatient}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.JoinWaitlist(context.Background(), e, ev, o)
	return got, token, err
}

// TestWaitlistRepeatResendsTheLink: a repeated join has the entry's link
// sent again (Resend runs in its transaction) once per repeat, at most
// once per booking.LinkResendGap; a resend that sent nothing is not
// counted, and one that fails fails the join.
func TestWaitlistRepeatResendsTheLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		sl := catalogue(t, s)(1, booking.SlotOpen)
		var calls int
		sends := true
		o := store.JoinOptions{Resend: func(tx *sql.Tx, e booking.WaitlistEntry) (bool, error) {
			calls++
			if tx == nil {
				return false, errors.New("no transaction")
			}
			return sends, nil
		}}
		join := func() store.Joined {
			t.Helper()
			j, _, err := joinWith(t, s, sl.ConsultationTypeID, "+14245550123", "ana@example.com", []string{"none"}, o)
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		if j := join(); j.Existing || j.LinkResent || calls != 0 {
			t.Fatalf("first join: existing %v resent %v calls %d, want a new entry and no resend", j.Existing, j.LinkResent, calls)
		}
		for _, tc := range []struct {
			name      string
			sends     bool
			wantCalls int
			wantSent  bool
		}{
			{"a repeat whose resend sends nothing (no channel)", false, 1, false},
			{"the next repeat sends it", true, 2, true},
			{"a repeat within the gap does not", true, 2, false},
		} {
			sends = tc.sends
			j := join()
			if !j.Existing || j.LinkResent != tc.wantSent || calls != tc.wantCalls {
				t.Errorf("%s: existing %v resent %v calls %d, want existing, resent %v, calls %d", tc.name, j.Existing, j.LinkResent, calls, tc.wantSent, tc.wantCalls)
			}
		}
		got, err := s.WaitlistEntry(context.Background(), join().Entry.ID)
		if err != nil || got.LinkResentAt == nil || time.Since(*got.LinkResentAt) > time.Minute {
			t.Errorf("link_resent_at: %v, %v; want just now", got.LinkResentAt, err)
		}
	})
}

// A resend whose messages cannot be written fails the repeated join: the
// patient is told to try again rather than told a link is on its way.
func TestWaitlistRepeatResendFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		sl := catalogue(t, s)(1, booking.SlotOpen)
		if _, _, err := joinWith(t, s, sl.ConsultationTypeID, "+14245550123", "ana@example.com", []string{"none"}, store.JoinOptions{}); err != nil {
			t.Fatal(err)
		}
		broken := errors.New("queue down")
		o := store.JoinOptions{Resend: func(*sql.Tx, booking.WaitlistEntry) (bool, error) { return true, broken }}
		if _, _, err := joinWith(t, s, sl.ConsultationTypeID, "+14245550123", "ana@example.com", []string{"none"}, o); !errors.Is(err, broken) {
			t.Fatalf("repeat with a failing resend: %v, want %v", err, broken)
		}
		j, _, err := joinWith(t, s, sl.ConsultationTypeID, "+14245550123", "ana@example.com", []string{"none"}, store.JoinOptions{})
		if err != nil || j.Entry.LinkResentAt != nil {
			t.Errorf("after the failed resend: resent at %v, err %v; want none recorded", j.Entry.LinkResentAt, err)
		}
	})
}

func publicDraft(token *string) store.WaitlistDraft {
	policy := booking.DefaultPolicy()
	return func(e booking.WaitlistEntry, info booking.SlotInfo) (booking.Booking, booking.Event, error) {
		req := booking.Request{SlotID: info.Slot.ID, Patient: e.Patient, Intake: e.Intake, Consent: e.Consent}
		b, ev, tok, err := policy.PublicRequest(req, info, time.Now())
		*token = tok
		return b, ev, err
	}
}

func offerTo(t *testing.T, s *store.Store, entry, slot uuid.UUID, ttl time.Duration) (store.MadeOffer, error) {
	t.Helper()
	policy := booking.DefaultPolicy()
	return s.OfferPlace(context.Background(), store.PlaceOffer{
		EntryID: entry, SlotID: slot, ExpiresAt: time.Now().Add(ttl), Actor: booking.Actor{Type: booking.ActorSystem},
		Check: func(info booking.SlotInfo) error { return policy.PublicHoldable(info, time.Now()) }, FullMatch: true,
	})
}

func TestWaitlistJoin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sl := catalogue(t, s)(1, booking.SlotOpen)
		first, token1, existing, err := joinFor(t, s, sl.ConsultationTypeID, "+14245550123", "ana@example.com", []string{"none"}, 0)
		if err != nil || existing {
			t.Fatalf("join: existing %v, err %v", existing, err)
		}
		// The same patient (by email, another phone) joining again gets the
		// same entry back, and the repeat's token is no token of it: who
		// repeats the details must not manage the entry.
		again, token2, existing, err := joinFor(t, s, sl.ConsultationTypeID, "+14245550199", "ANA@example.com", []string{"none"}, 0)
		if err != nil || !existing || again.ID != first.ID {
			t.Fatalf("join again: id %s existing %v err %v, want %s existing", again.ID, existing, err, first.ID)
		}
		if got, err := s.WaitlistEntryByToken(ctx, first.Reference, token1); err != nil || got.ID != first.ID || got.Status != booking.WaitlistWaiting {
			t.Errorf("by the join's token: %+v, %v", got.ID, err)
		}
		if _, err := s.WaitlistEntryByToken(ctx, first.Reference, token2); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("by the repeat's token: %v, want not found", err)
		}
		if _, err := s.WaitlistEntryByToken(ctx, first.Reference, "wrong"); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("wrong token: %v, want not found", err)
		}
		if _, err := s.WaitlistEntryByToken(ctx, "ZZZZ-ZZZZ", token1); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("unknown reference: %v, want not found", err)
		}
		// Another patient is another entry.
		other, _, existing, err := joinFor(t, s, sl.ConsultationTypeID, "+14245550111", "bo@example.com", []string{"none"}, 0)
		if err != nil || existing || other.ID == first.ID {
			t.Fatalf("another patient: existing %v err %v", existing, err)
		}
		left, err := s.LeaveWaitlist(ctx, other.ID, booking.Actor{Type: booking.ActorPatient})
		if err != nil || left.Status != booking.WaitlistLeft {
			t.Fatalf("leave: %s %v", left.Status, err)
		}
		if _, err := s.LeaveWaitlist(ctx, other.ID, booking.Actor{Type: booking.ActorPatient}); !errors.Is(err, booking.ErrInvalidTransition) {
			t.Errorf("leave twice: %v, want invalid transition", err)
		}
	})
}

// MAX_LIVE_PER_PATIENT counts live entries as online bookings: with a limit
// of one, a patient waiting cannot book online nor join another list.
func TestWaitlistCountsTowardsThePatientLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		sl := slot(1, booking.SlotOpen)
		if _, _, _, err := joinFor(t, s, sl.ConsultationTypeID, "+14245550123", "ana@example.com", []string{"none"}, 1); err != nil {
			t.Fatal(err)
		}
		_, err := s.CreateBooking(ctx, sl.ID, sourcedDraft(t, sl.ID, booking.SourceWeb, "+14245550123", ""), nil, store.LivePerPatient(1))
		if !errors.Is(err, booking.ErrPatientLimitReached) {
			t.Errorf("booking while waiting: %v, want patient_limit_reached", err)
		}
		if _, err := s.CreateBooking(ctx, sl.ID, sourcedDraft(t, sl.ID, booking.SourceWeb, "+14245550177", "zed@example.com"), nil, store.LivePerPatient(1)); err != nil {
			t.Errorf("another patient's booking: %v", err)
		}
	})
}

func TestWaitlistOfferAndAccept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sl := catalogue(t, s)(1, booking.SlotOpen)
		e, _, _, err := joinFor(t, s, sl.ConsultationTypeID, "+14245550123", "ana@example.com", []string{"cancer_history"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		made, err := offerTo(t, s, e.ID, sl.ID, 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if made.Entry.Status != booking.WaitlistOffered || made.Entry.Offer == nil || made.Entry.Offer.SlotID != sl.ID {
			t.Fatalf("offered entry: %+v", made.Entry)
		}
		got, err := s.WaitlistEntryByToken(ctx, e.Reference, made.Token)
		if err != nil || got.Offer == nil || !got.Offer.StartAt.Equal(sl.StartAt) {
			t.Fatalf("entry by the offer's token: %+v %v", got.Offer, err)
		}
		// The offer holds the only place: a staff booking and a second
		// offer are refused.
		if _, err := s.CreateBooking(ctx, sl.ID, sourcedDraft(t, sl.ID, booking.SourcePhone, "+14245550177", ""), nil); !errors.Is(err, booking.ErrSlotUnavailable) {
			t.Errorf("staff booking of the offered place: %v, want slot_unavailable", err)
		}
		other, _, _, err := joinFor(t, s, sl.ConsultationTypeID, "+14245550111", "bo@example.com", []string{"none"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := offerTo(t, s, other.ID, sl.ID, 30*time.Minute); !errors.Is(err, booking.ErrSlotUnavailable) {
			t.Errorf("second offer of one place: %v, want slot_unavailable", err)
		}
		var token string
		c, err := s.AcceptWaitlistOffer(ctx, e.ID, publicDraft(&token), store.LivePerPatient(1))
		if err != nil {
			t.Fatal(err)
		}
		b := c.Booking
		if b.SlotID != sl.ID || b.Status != booking.StatusPending || b.Patient.Email != "ana@example.com" ||
			b.Triage.Level != booking.TriageUrgent || !booking.TokenMatches(b.ManageTokenHash, token) {
			t.Errorf("booking: slot %s status %s email %s triage %s", b.SlotID, b.Status, b.Patient.Email, b.Triage.Level)
		}
		if got := bookedIn(t, s, sl.ID); got != 1 {
			t.Errorf("booked = %d, want 1", got)
		}
		after, err := s.WaitlistEntry(ctx, e.ID)
		if err != nil || after.Status != booking.WaitlistBooked || after.BookingID == nil || *after.BookingID != b.ID || after.Offer != nil {
			t.Errorf("entry after accept: %s %v %v", after.Status, after.BookingID, err)
		}
		if _, err := s.AcceptWaitlistOffer(ctx, e.ID, publicDraft(&token)); !errors.Is(err, booking.ErrNoOffer) {
			t.Errorf("accept twice: %v, want no_offer", err)
		}
		hist, err := s.WaitlistHistory(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		var types []booking.WaitlistEventType
		for _, h := range hist {
			types = append(types, h.Type)
		}
		if want := []booking.WaitlistEventType{booking.WaitlistJoined, booking.WaitlistOfferMade, booking.WaitlistAccepted}; len(types) != 3 || types[0] != want[0] || types[1] != want[1] || types[2] != want[2] {
			t.Errorf("history %v, want %v", types, want)
		}
	})
}

func TestWaitlistDeclineAndLapse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sl := catalogue(t, s)(1, booking.SlotOpen)
		e, _, _, err := joinFor(t, s, sl.ConsultationTypeID, "+14245550123", "ana@example.com", []string{"none"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := offerTo(t, s, e.ID, sl.ID, 30*time.Minute); err != nil {
			t.Fatal(err)
		}
		got, err := s.DeclineWaitlistOffer(ctx, e.ID, booking.Actor{Type: booking.ActorPatient})
		if err != nil || got.Status != booking.WaitlistWaiting {
			t.Fatalf("decline: %s %v", got.Status, err)
		}
		// The place is free again at once.
		if _, err := s.CreateHold(ctx, store.NewHold{SlotID: sl.ID, TokenHash: "h", ClientHash: "c", ExpiresAt: time.Now().Add(time.Minute),
			Check: func(booking.SlotInfo) error { return nil }}); err != nil {
			t.Fatalf("hold after decline: %v", err)
		}
		sl2 := catalogue(t, s)(1, booking.SlotOpen)
		e2, _, _, err := joinFor(t, s, sl2.ConsultationTypeID, "+14245550124", "bo@example.com", []string{"none"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		// An offer that expired: the accept says so, and the entry waits.
		if _, err := offerTo(t, s, e2.ID, sl2.ID, time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond)
		var token string
		if _, err := s.AcceptWaitlistOffer(ctx, e2.ID, publicDraft(&token)); !errors.Is(err, booking.ErrOfferExpired) {
			t.Errorf("accept after expiry: %v, want offer_expired", err)
		}
		after, err := s.WaitlistEntry(ctx, e2.ID)
		if err != nil || after.Status != booking.WaitlistWaiting || after.Offer != nil {
			t.Errorf("after a lapsed accept: %s %v", after.Status, err)
		}
		if got := bookedIn(t, s, sl2.ID); got != 0 {
			t.Errorf("booked = %d, want 0", got)
		}
	})
}

// Rule 1 with the waitlist: an accept racing a staff booking (and a
// widget's hold) of the last place never overbooks; exactly one wins.
func TestWaitlistAcceptRacesStaffBooking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		for round := range 8 {
			sl := slot(1, booking.SlotOpen)
			e, _, _, err := joinFor(t, s, sl.ConsultationTypeID, "+1424555"+string(rune('0'+round))+"123", "", []string{"none"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			// Half the rounds the offer's hold has just expired, so the
			// staff booking may take the place.
			ttl := 30 * time.Minute
			if round%2 == 1 {
				ttl = time.Second
			}
			if _, err := offerTo(t, s, e.ID, sl.ID, ttl); err != nil {
				t.Fatal(err)
			}
			if round%2 == 1 {
				time.Sleep(1100 * time.Millisecond)
			}
			var wg sync.WaitGroup
			results := make([]error, 6)
			for i := range results {
				wg.Go(func() {
					switch i % 3 {
					case 0:
						var token string
						_, results[i] = s.AcceptWaitlistOffer(ctx, e.ID, publicDraft(&token))
					case 1:
						_, results[i] = s.CreateBooking(ctx, sl.ID, sourcedDraft(t, sl.ID, booking.SourcePhone, "+14245550177", ""), nil)
					default:
						_, results[i] = s.CreateHold(ctx, store.NewHold{SlotID: sl.ID, TokenHash: uuid.NewString(), ClientHash: uuid.NewString(),
							ExpiresAt: time.Now().Add(time.Minute), Check: func(booking.SlotInfo) error { return nil }})
					}
				})
			}
			wg.Wait()
			if got := bookedIn(t, s, sl.ID); got > 1 {
				t.Fatalf("round %d: booked = %d, want at most 1", round, got)
			}
			ok := 0
			for i, err := range results {
				if err == nil && i%3 != 2 {
					ok++
				} else if err != nil && !errors.Is(err, booking.ErrSlotUnavailable) && !errors.Is(err, booking.ErrNoOffer) &&
					!errors.Is(err, booking.ErrOfferExpired) && !errors.Is(err, booking.ErrHoldExpired) {
					t.Errorf("round %d: call %d: unexpected %v", round, i, err)
				}
			}
			if ok > 1 {
				t.Fatalf("round %d: %d bookings succeeded, want at most 1", round, ok)
			}
			// With the offer live, one of its two accepts books the place.
			if round%2 == 0 && results[0] != nil && results[3] != nil {
				t.Errorf("round %d: both accepts of the live offer failed: %v; %v", round, results[0], results[3])
			}
		}
	})
}

func freedOffer() store.FreedPlaceOffer {
	policy := booking.DefaultPolicy()
	return store.FreedPlaceOffer{
		Expires: func(now time.Time) time.Time { return now.Add(30 * time.Minute) },
		Check:   func(info booking.SlotInfo, now time.Time) error { return policy.PublicHoldable(info, now) },
	}
}

func passOn(t *testing.T, s *store.Store) []store.MadeOffer {
	t.Helper()
	var made []store.MadeOffer
	if err := s.PassOn(context.Background(), freedOffer(), func(_ *sql.Tx, m []store.MadeOffer) error {
		made = m
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return made
}

// The sweep offers a place that is free (it appeared: a new slot), to the
// first entry; a declined place goes to the next entry, never back to the
// one that declined it.
func TestWaitlistSweepOffersFreePlaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		full := slot(1, booking.SlotOpen)
		if _, err := s.CreateBooking(ctx, full.ID, sourcedDraft(t, full.ID, booking.SourcePhone, "+14245550177", ""), nil); err != nil {
			t.Fatal(err)
		}
		first, _, _, err := joinFor(t, s, full.ConsultationTypeID, "+14245550101", "a@example.com", []string{"none"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		second, _, _, err := joinFor(t, s, full.ConsultationTypeID, "+14245550102", "b@example.com", []string{"none"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if made := passOn(t, s); len(made) != 0 {
			t.Fatalf("no free place: %d offers, want 0", len(made))
		}
		free := slot(1, booking.SlotOpen) // a place appears
		made := passOn(t, s)
		if len(made) != 1 || made[0].Entry.ID != first.ID || made[0].Entry.Offer.SlotID != free.ID {
			t.Fatalf("offers after a place appeared: %+v, want one to the first entry", made)
		}
		if made := passOn(t, s); len(made) != 0 {
			t.Fatalf("a held place offered again: %d offers", len(made))
		}
		if _, err := s.DeclineWaitlistOffer(ctx, first.ID, booking.Actor{Type: booking.ActorPatient}); err != nil {
			t.Fatal(err)
		}
		made = passOn(t, s)
		if len(made) != 1 || made[0].Entry.ID != second.ID {
			t.Fatalf("after a decline: %+v, want one offer to the second entry", made)
		}
		if _, err := s.DeclineWaitlistOffer(ctx, second.ID, booking.Actor{Type: booking.ActorPatient}); err != nil {
			t.Fatal(err)
		}
		if made := passOn(t, s); len(made) != 0 {
			t.Fatalf("a place offered back to entries that declined it: %+v", made)
		}
	})
}

// A booking made another way closes the patient's waiting entry for its
// consultation type, as the feed follower sees it.
func TestWaitlistClosedWhenBookedElsewhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		sl := slot(2, booking.SlotOpen)
		follow := func() {
			t.Helper()
			if err := s.CatchUpFeed(ctx, "waitlist_test", func(ctx context.Context, tx *sql.Tx, events []store.FeedEvent) error {
				_, err := s.OfferFreedTx(ctx, tx, events, freedOffer())
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		follow() // the cursor starts here
		e, _, _, err := joinFor(t, s, sl.ConsultationTypeID, "+14245550123", "ana@example.com", []string{"none"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.CreateBooking(ctx, sl.ID, sourcedDraft(t, sl.ID, booking.SourceWeb, "+14245550123", "ana@example.com"), nil)
		if err != nil {
			t.Fatal(err)
		}
		follow()
		got, err := s.WaitlistEntry(ctx, e.ID)
		if err != nil || got.Status != booking.WaitlistBooked || got.BookingID == nil || *got.BookingID != c.Booking.ID {
			t.Errorf("entry after booking another way: %s %v %v", got.Status, got.BookingID, err)
		}
	})
}

// Many places freed at once, read by two instances' followers and sweeps
// at the same time: each freed place is offered exactly once, to a
// distinct entry, the first entries in order, and no slot has more live
// offers than places.
func TestWaitlistFreedPlacesOfferedOnce(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			url := b.URL(t)
			one, two := storetest.Open(t, url), storetest.Open(t, url)
			slot := catalogue(t, one)
			const places, waiting = 12, 20
			var slots []booking.Slot
			var bookings []uuid.UUID
			for range places {
				sl := slot(1, booking.SlotOpen)
				c, err := one.CreateBooking(ctx, sl.ID, sourcedDraft(t, sl.ID, booking.SourcePhone, "+14245550177", ""), nil)
				if err != nil {
					t.Fatal(err)
				}
				slots, bookings = append(slots, sl), append(bookings, c.Booking.ID)
			}
			follow := func(s *store.Store) error {
				return s.CatchUpFeed(ctx, "waitlist_offers", func(ctx context.Context, tx *sql.Tx, events []store.FeedEvent) error {
					_, err := s.OfferFreedTx(ctx, tx, events, freedOffer())
					return err
				})
			}
			if err := follow(one); err != nil { // the cursor starts here
				t.Fatal(err)
			}
			var entries []uuid.UUID
			for i := range waiting {
				e, _, _, err := joinFor(t, one, slots[0].ConsultationTypeID, fmt.Sprintf("+142455502%02d", i), "", []string{"none"}, 0)
				if err != nil {
					t.Fatal(err)
				}
				entries = append(entries, e.ID)
				time.Sleep(2 * time.Millisecond) // distinct join times: a strict order
			}
			var wg sync.WaitGroup
			for i, id := range bookings {
				s := one
				if i%2 == 1 {
					s = two
				}
				wg.Go(func() {
					if _, _, err := s.UpdateBooking(ctx, id, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
						ev, err := b.Apply(booking.ActionCancel, booking.Actor{Type: booking.ActorPatient}, "", time.Now())
						return []booking.Event{ev}, err
					}); err != nil {
						t.Error(err)
					}
				})
			}
			errs := make(chan error, 8)
			for i := range 4 {
				s := []*store.Store{one, two}[i%2]
				wg.Go(func() {
					for range 5 {
						if err := follow(s); err != nil {
							errs <- err
							return
						}
						if err := s.PassOn(ctx, freedOffer(), func(*sql.Tx, []store.MadeOffer) error { return nil }); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if err := follow(one); err != nil {
				t.Fatal(err)
			}
			offeredSlots := map[uuid.UUID]int{}
			for i, id := range entries {
				e, err := one.WaitlistEntry(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				offered := e.Status == booking.WaitlistOffered
				if offered != (i < places) {
					t.Errorf("entry %d: %s, want offered only for the first %d", i, e.Status, places)
				}
				if offered {
					offeredSlots[e.Offer.SlotID]++
				}
			}
			for _, sl := range slots {
				if n := offeredSlots[sl.ID]; n != 1 {
					t.Errorf("slot %s: %d live offers, want 1", sl.ID, n)
				}
			}
		})
	}
}

// The entries are read a few at a time: a place goes to the first entry
// that fits even when more entries than one page's worth come before it
// and do not fit (another time of day).
func TestWaitlistOfferPassesOverEntriesThatDoNotFit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		slot := catalogue(t, s)
		free := slot(1, booking.SlotOpen)
		zone, err := time.LoadLocation("America/Los_Angeles")
		if err != nil {
			t.Fatal(err)
		}
		other := "morning"
		if free.StartAt.In(zone).Hour() < 12 {
			other = "afternoon"
		}
		join := func(i int, times []string) booking.WaitlistEntry {
			t.Helper()
			sev, yes, reason := 7, true, "lower back spasms"
			today := booking.DateOf(time.Now(), time.UTC)
			req, err := booking.ParseWaitlist(booking.WaitlistInput{
				ConsultationTypeID: free.ConsultationTypeID.String(), EarliestDate: today.String(), LatestDate: today.AddDays(10).String(), TimesOfDay: times,
				Patient: booking.PatientInput{FirstName: "Ana", LastName: "Lopez", DateOfBirth: "1980-04-02", Phone: fmt.Sprintf("+142455503%02d", i)},
				Intake:  booking.IntakeInput{RedFlags: []string{"none"}, PainSeverity: &sev, RelievedBy: []string{"heat_or_ice"}, SpasmFrequency: "daily", RecentPhysicalActivity: &yes, Reason: &reason},
				Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes, ContactBySMS: &yes},
			}, time.Now().UTC(), false)
			if err != nil {
				t.Fatal(err)
			}
			e, ev, _, err := booking.NewWaitlistEntry(req, booking.SourceWeb, booking.Actor{Type: booking.ActorPatient}, time.Now().Add(time.Duration(i)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.JoinWaitlist(ctx, e, ev, store.JoinOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return got.Entry
		}
		for i := range 11 {
			join(i, []string{other})
		}
		fits := join(11, nil)
		join(12, nil)
		made := passOn(t, s)
		if len(made) != 1 || made[0].Entry.ID != fits.ID {
			t.Fatalf("offers: %+v, want one to the first entry that fits", made)
		}
	})
}
