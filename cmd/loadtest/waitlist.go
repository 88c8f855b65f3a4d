package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/notify"
	"github.com/clinic/consult/internal/store"
)

// waitlisting is the waitlist pipeline of the "waitlist-offer" and
// "waitlist-flood" scenarios, wired as the server binary wires it
// (cmd/server's setUpDeliveries): the waitlist follower of the live feed
// offers each freed place to the first matching entry in the transaction
// that passes the freeing change, and writes the offer's messages; the
// delivery queue's workers send the email to a real SMTP server (Mailpit,
// started here, its own) and the text to a local server answering as
// Twilio does. Patient messages are not wired here: the "messages"
// scenario measures them.
type waitlisting struct {
	st     *store.Store
	offers *notify.WaitlistOffers
	queue  *delivery.Queue
	*outbound
	stop func() // stops the relay and the workers once started
}

// setUpWaitlist builds the pipeline, stopped. It returns nil and a reason
// when Mailpit is not installed.
func setUpWaitlist(st *store.Store, policy booking.Policy) (*waitlisting, string, error) {
	out, reason, err := startOutbound("loadtest-waitlist-mailpit-")
	if out == nil {
		return nil, reason, err
	}
	w := &waitlisting{st: st, outbound: out}
	log := slog.New(slog.DiscardHandler)
	w.offers = notify.NewWaitlistOffers(notify.WaitlistConfig{
		Messages: notify.Config{
			ClinicName: "Load Clinic", PublicBaseURL: "http://loadtest.example", Email: w.email, SMS: w.sms,
			Log: log,
		},
		Policy: policy, // WAITLIST_OFFER_TTL and the sweep's period: the defaults
	}, st)
	ws := delivery.NewWorkers(time.Hour, log, nil)
	w.offers.Register(ws)
	if w.queue, err = delivery.New(delivery.Config{DB: st.QueueDB(), Postgres: st.Dialect() == store.Postgres, Workers: ws, Log: log}); err != nil {
		w.close()
		return nil, "", err
	}
	w.offers.Attach(w.queue)
	return w, "", nil
}

// start passes the follower every change made so far (there is no entry
// yet: it offers nothing), then runs it and the queue's workers until
// close.
func (w *waitlisting) start(ctx context.Context) error {
	if w.stop != nil {
		return nil
	}
	if err := w.offers.CatchUp(ctx); err != nil {
		return fmt.Errorf("waitlist follower: %w", err)
	}
	if err := w.queue.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.offers.Relay(relayCtx)
	}()
	w.stop = func() {
		stopRelay()
		<-done
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = w.queue.Stop(stopCtx)
	}
	return nil
}

func (w *waitlisting) close() {
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	w.outbound.close()
}

// emails returns when Mailpit accepted each message to an address that
// starts with prefix, by address.
func (w *waitlisting) emails(ctx context.Context, prefix string) (map[string][]time.Time, error) {
	all, err := w.mailpit.Messages(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]time.Time{}
	for _, m := range all {
		for _, to := range m.To {
			if strings.HasPrefix(to.Address, prefix) {
				out[to.Address] = append(out[to.Address], m.Created)
			}
		}
	}
	return out, nil
}

// offerRow is one offer made (live or ended) to an entry of a waitlist
// scenario.
type offerRow struct {
	slot, entry, email string
}

// offersFor lists every offer ever made to the entries for consultation
// type typ, from the database.
func (r *runner) offersFor(ctx context.Context, typ uuid.UUID) ([]offerRow, error) {
	// typ is a UUID this tool made: written in the query, it reads the same
	// on both databases without their placeholders.
	rows, err := r.st.QueueDB().QueryContext(ctx, "SELECT o.slot_id, o.entry_id, e.patient_email FROM waitlist_offers o "+
		"JOIN waitlist_entries e ON e.id = o.entry_id WHERE e.consultation_type_id = '"+typ.String()+"'")
	if err != nil {
		return nil, fmt.Errorf("offers: %w", err)
	}
	defer rows.Close()
	var out []offerRow
	for rows.Next() {
		var o offerRow
		if err := rows.Scan(&o.slot, &o.entry, &o.email); err != nil {
			return nil, fmt.Errorf("offers: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// waitlistType adds a consultation type of the waitlist scenarios: one for
// each set of entries, so that the places of one set (and the sweep that
// offers any free place of a wanted type) never reach another's entries.
func (r *runner) waitlistType(ctx context.Context, name string) (uuid.UUID, error) {
	t := booking.ConsultationType{ID: uuid.New(), Name: name, DurationMinutes: 30, Active: true, CreatedAt: time.Now()}
	if err := r.st.CreateConsultationType(ctx, t); err != nil {
		return uuid.Nil, fmt.Errorf("waitlist type: %w", err)
	}
	return t.ID, nil
}

// fullPlaces makes n slots of one place for consultation type typ, with a
// provider of their own (so they overlap no seeded slot), from the day
// after tomorrow, 08:00 to 18:00 in the clinic's zone, each taken by a
// confirmed booking; it returns the bookings.
func (r *runner) fullPlaces(ctx context.Context, typ uuid.UUID, n int, rng *mrand.Rand) ([]uuid.UUID, error) {
	if r.wlProvider == uuid.Nil {
		p := booking.Provider{ID: uuid.New(), Name: "Dr. Wait Listing", Title: "Load test", Active: true, CreatedAt: time.Now()}
		if err := r.st.CreateProvider(ctx, p); err != nil {
			return nil, fmt.Errorf("waitlist provider: %w", err)
		}
		r.wlProvider = p.ID
	}
	const perDay = 20
	staff := booking.StaffActor(r.k.staffID)
	var out []uuid.UUID
	for range n {
		i := r.wlSlots
		r.wlSlots++
		start, _ := r.k.today.AddDays(2+i/perDay).At(clock("08:00"), r.k.zone)
		start = start.Add(time.Duration(i%perDay) * 30 * time.Minute)
		now := time.Now()
		slot := booking.Slot{ID: uuid.New(), ProviderID: r.wlProvider, LocationID: r.k.locations[0], ConsultationTypeID: typ,
			StartAt: start, EndAt: start.Add(30 * time.Minute), Capacity: 1, Status: booking.SlotOpen, CreatedAt: now}
		if err := r.st.CreateSlot(ctx, slot); err != nil {
			return nil, fmt.Errorf("waitlist slot: %w", err)
		}
		req, err := booking.ParseStaffRequest(fakeRequest(slot.ID, rng), now.In(r.k.zone))
		if err != nil {
			return nil, fmt.Errorf("waitlist booking: %w", err)
		}
		c, err := r.st.CreateBooking(ctx, slot.ID, func(booking.SlotInfo) (booking.Booking, booking.Event, error) {
			b, ev, _, err := booking.NewBooking(req, booking.SourcePhone, booking.StatusConfirmed, staff, now)
			return b, ev, err
		}, nil)
		if err != nil {
			return nil, fmt.Errorf("waitlist booking: %w", err)
		}
		out = append(out, c.Booking.ID)
	}
	return out, nil
}

// joinWaitlist adds n entries for type typ, for any time from today to
// the last day fullPlaces may reach, as the widget would (web, email
// consent, a text for every other one), through the store, 8 at a time.
// The addresses are wl-<tag>-<i>@waitlist.loadtest.example; the phones are
// in an area code the seeded patients never have, so that no booking of
// theirs closes an entry as "booked elsewhere".
func (r *runner) joinWaitlist(ctx context.Context, typ uuid.UUID, n int, tag string) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, n)
	next := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				id, err := r.joinOne(ctx, typ, i, tag)
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				out[i] = id
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, fmt.Errorf("join the waitlist: %w", err)
	default:
	}
	return out, nil
}

func (r *runner) joinOne(ctx context.Context, typ uuid.UUID, i int, tag string) (uuid.UUID, error) {
	now := time.Now().In(r.k.zone)
	rng := mrand.New(mrand.NewPCG(r.cfg.seed, uint64(i)))
	in := fakeRequest(uuid.Nil, rng)
	yes, sms := true, i%2 == 0
	today := booking.DateOf(now, r.k.zone)
	req, err := booking.ParseWaitlist(booking.WaitlistInput{
		ConsultationTypeID: typ.String(), EarliestDate: today.String(), LatestDate: today.AddDays(110).String(),
		Patient: booking.PatientInput{FirstName: in.Patient.FirstName, LastName: in.Patient.LastName, DateOfBirth: in.Patient.DateOfBirth,
			Phone: fmt.Sprintf("+1909%07d", i), Email: fmt.Sprintf("wl-%s-%d@waitlist.loadtest.example", tag, i)},
		Intake:  in.Intake,
		Consent: booking.ConsentInput{PrivacyPolicyAccepted: &yes, ContactByEmail: &yes, ContactBySMS: &sms},
	}, now, false)
	if err != nil {
		return uuid.Nil, err
	}
	e, ev, _, err := booking.NewWaitlistEntry(req, booking.SourceWeb, booking.Actor{Type: booking.ActorPatient}, now)
	if err != nil {
		return uuid.Nil, err
	}
	j, err := r.st.JoinWaitlist(ctx, e, ev, store.JoinOptions{})
	if err != nil {
		return uuid.Nil, err
	}
	return j.Entry.ID, nil
}

// leaveWaitlist takes entries off the waitlist: the waiting ones first,
// then those holding an offer, so that no withdrawn offer's place is
// passed on to an entry still waiting.
func (r *runner) leaveWaitlist(ctx context.Context, entries []uuid.UUID) error {
	for _, want := range []booking.WaitlistStatus{booking.WaitlistWaiting, booking.WaitlistOffered} {
		for _, id := range entries {
			e, err := r.st.WaitlistEntry(ctx, id)
			if err != nil {
				return fmt.Errorf("leave the waitlist: %w", err)
			}
			if e.Status != want {
				continue
			}
			if _, err := r.st.LeaveWaitlist(ctx, id, booking.StaffActor(r.k.staffID)); err != nil && !errors.Is(err, booking.ErrInvalidTransition) {
				return fmt.Errorf("leave the waitlist: %w", err)
			}
		}
	}
	return nil
}

// cancel is reception's cancellation of booking id over HTTP: when it was
// sent, its status and how long it took.
type cancel struct {
	sent   time.Time
	status int
	lat    time.Duration
}

func (r *runner) cancelBooking(ctx context.Context, token string, id uuid.UUID) cancel {
	h := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	c := cancel{sent: time.Now()}
	c.status, _, _ = send(ctx, r.client, "POST", r.apis[int(id[0])%len(r.apis)]+"/v1/bookings/"+id.String()+"/cancel",
		[]byte(`{"reason": "load test: the place goes to the waitlist"}`), h, false)
	c.lat = time.Since(c.sent)
	return c
}

// cancelResult is the measurement of a set of cancellations.
func cancelResult(name string, cs []cancel, elapsed time.Duration) result {
	res := result{name: name, statuses: map[int]int{}, elapsed: elapsed}
	for _, c := range cs {
		res.lat = append(res.lat, c.lat)
		res.statuses[c.status]++
	}
	res.requests = len(res.lat)
	slices.Sort(res.lat)
	return res
}

// waitOffers waits, for at most limit, until the entries of type typ hold
// want offers and want emails to prefix arrived, and a little longer for
// any offer or email too many; it returns what it saw last.
func (r *runner) waitOffers(ctx context.Context, typ uuid.UUID, prefix string, want int, limit time.Duration) ([]offerRow, map[string][]time.Time, error) {
	deadline := time.Now().Add(limit)
	settled := false
	for {
		offers, err := r.offersFor(ctx, typ)
		if err != nil {
			return nil, nil, err
		}
		mails, err := r.wl.emails(ctx, prefix)
		if err != nil {
			return nil, nil, err
		}
		n := 0
		for _, ts := range mails {
			n += len(ts)
		}
		done := len(offers) >= want && n >= want
		switch {
		case settled, ctx.Err() != nil, !done && time.Now().After(deadline):
			return offers, mails, nil
		case done:
			// Time for a wrong second offer or email to show.
			settled = true
			time.Sleep(time.Second)
		default:
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// checkOffers holds the waitlist's promise for a set of freed places: one
// offer per freed place, no slot offered twice, no entry offered twice,
// every offer of a freed slot, and one email per offer, to its entry. It
// returns "" when it holds, else what broke.
func checkOffers(offers []offerRow, mails map[string][]time.Time, freed map[string]bool) string {
	var bad []string
	slots, entries := map[string]int{}, map[string]int{}
	for _, o := range offers {
		slots[o.slot]++
		entries[o.entry]++
		if !freed[o.slot] {
			bad = append(bad, "an offer of a slot not freed")
		}
		if n := len(mails[o.email]); n != 1 {
			bad = append(bad, fmt.Sprintf("%d emails to one offered entry", n))
		}
	}
	if len(offers) != len(freed) {
		bad = append(bad, fmt.Sprintf("%d offers for %d freed places", len(offers), len(freed)))
	}
	for _, n := range slots {
		if n > 1 {
			bad = append(bad, fmt.Sprintf("a slot offered %d times", n))
		}
	}
	for _, n := range entries {
		if n > 1 {
			bad = append(bad, fmt.Sprintf("an entry offered %d times", n))
		}
	}
	if len(mails) != len(entries) {
		bad = append(bad, fmt.Sprintf("emails to %d entries, %d offered", len(mails), len(entries)))
	}
	slices.Sort(bad)
	return strings.Join(slices.Compact(bad), "; ")
}

// waitlistOfferScenario measures the time from the commit that frees a
// place (reception cancels a booking whose slot a waiting entry wants) to
// the offer email's acceptance by the SMTP server: cfg.waitlistCancels
// cancellations over HTTP at cfg.waitlistRate a second, with
// cfg.waitlistEntries entries waiting. The lag runs from the moment the
// cancellation was sent (the commit is before its answer: the figure errs
// long by the cancellation's own time) to Mailpit's time of receipt.
func (r *runner) waitlistOfferScenario(ctx context.Context, rep *report, progress func(result)) {
	c := r.cfg
	name := "waitlist offer lag (cancel -> SMTP accept)"
	fail := func(err error) { rep.fatal = fmt.Errorf("waitlist-offer: %w", err) }
	rng := mrand.New(mrand.NewPCG(c.seed, 0x0ffe))
	typ, err := r.waitlistType(ctx, "Waitlist offer (load test)")
	if err != nil {
		fail(err)
		return
	}
	bookings, err := r.fullPlaces(ctx, typ, c.waitlistCancels, rng)
	if err != nil {
		fail(err)
		return
	}
	entries, err := r.joinWaitlist(ctx, typ, max(c.waitlistEntries, c.waitlistCancels), "o")
	if err != nil {
		fail(err)
		return
	}
	defer func() {
		if err := r.leaveWaitlist(ctx, entries); err != nil && rep.fatal == nil {
			fail(err)
		}
	}()
	// Their bookings' changes passed before the cancellations start.
	if err := r.wl.offers.CatchUp(ctx); err != nil {
		fail(err)
		return
	}
	token, err := r.login(ctx)
	if err != nil {
		fail(err)
		return
	}
	slotOf := map[uuid.UUID]string{}
	for _, id := range bookings {
		_, sl, err := r.st.Booking(ctx, id)
		if err != nil {
			fail(err)
			return
		}
		slotOf[id] = sl.ID.String()
	}

	cs := make([]cancel, len(bookings))
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(c.waitlistRate))
	began := time.Now()
	for i, id := range bookings {
		<-tick.C
		wg.Go(func() { cs[i] = r.cancelBooking(ctx, token, id) })
	}
	wg.Wait()
	tick.Stop()
	cancels := cancelResult(fmt.Sprintf("waitlist: reception cancels at %d/s", c.waitlistRate), cs, time.Since(began))
	progress(cancels)
	rep.add(row{res: cancels, goalText: "(no goal: paced)", no5xx: true})

	offers, mails, err := r.waitOffers(ctx, typ, "wl-o-", len(bookings), time.Minute)
	if err != nil {
		fail(err)
		return
	}
	sent, freed := map[string]time.Time{}, map[string]bool{}
	for i, id := range bookings {
		if cs[i].status == http.StatusOK {
			sent[slotOf[id]] = cs[i].sent
			freed[slotOf[id]] = true
		}
	}
	lag := result{name: name, statuses: map[int]int{}, elapsed: cancels.elapsed}
	for _, o := range offers {
		if ts := mails[o.email]; len(ts) > 0 && !sent[o.slot].IsZero() {
			lag.lat = append(lag.lat, ts[0].Sub(sent[o.slot]))
		}
	}
	lag.requests = len(lag.lat)
	slices.Sort(lag.lat)
	broke := checkOffers(offers, mails, freed)
	lag.note = fmt.Sprintf("%d/%d freed places offered and emailed once each, %d entries waiting", lag.requests, len(bookings), len(entries))
	if broke != "" || len(freed) != len(bookings) {
		lag.note += "; broken: " + broke
	}
	fmt.Fprintf(r.stderr, "  %-40s %8d emails, p50 %s, p99 %s\n", name, lag.requests, ms(lag.pct(0.5)), ms(lag.pct(0.99)))
	rep.add(row{res: lag, maxP99: 2 * time.Second, goalText: "p99 < 2s, each place offered once",
		checked: true, checkOK: broke == "" && len(freed) == len(bookings)})
}

// waitlistFloodScenario holds the waitlist to its promise under a flood and
// measures what the waitlist costs the booking path: booking requests (as
// the booking scenario sends them) while cfg.waitlistFreed places are
// cancelled at once with cfg.waitlistEntries entries waiting for them,
// against the same cancellations with nobody waiting (and, reported
// beside it, against no cancellation at all); in turns, none, nobody
// waiting, flood, flood, nobody waiting, none, each on fresh places (and
// the entries of each flood leave after it). Each flood must give exactly
// one offer per place, no slot or entry offered twice, and one email per
// offer; with nobody waiting, no offer at all.
func (r *runner) waitlistFloodScenario(ctx context.Context, rep *report, progress func(result)) {
	c := r.cfg
	fail := func(err error) { rep.fatal = fmt.Errorf("waitlist-flood: %w", err) }
	token, err := r.login(ctx)
	if err != nil {
		fail(err)
		return
	}
	half := c.duration / 2
	// Each run starts with the places the last one took given back, their
	// changes passed by the waitlist follower, as the messages scenario does.
	prepare := func() bool {
		if err := r.recyclePlaces(ctx); err != nil {
			fail(err)
			return false
		}
		if err := r.wl.offers.CatchUp(ctx); err != nil {
			fail(err)
			return false
		}
		return true
	}
	plain := func(name string, seed uint64) result {
		if !prepare() {
			return result{name: name}
		}
		return drive(ctx, name, c.clients, c.warmup, half, seed, r.bookingCall())
	}
	type flooded struct {
		cancels        []cancel
		broke          string
		offersIn, mail time.Duration
	}
	var floods []flooded
	floodName := fmt.Sprintf("booking, %d waiting, %d cancelled at once", c.waitlistEntries, c.waitlistFreed)
	bareName := fmt.Sprintf("booking, nobody waiting, %d cancelled at once", c.waitlistFreed)
	bare := 0
	// flood runs booking requests while c.waitlistFreed places are cancelled
	// at once; with waiting, c.waitlistEntries wait for them (a flood of
	// offers), without, nobody does (the cancellations alone: what the
	// waitlist's own cost is measured against).
	flood := func(seed uint64, waiting bool) result {
		name := floodName
		tag := fmt.Sprintf("f%d", len(floods)+1)
		if !waiting {
			name = bareName
			bare++
			tag = fmt.Sprintf("c%d", bare)
		}
		rng := mrand.New(mrand.NewPCG(seed, 0xf100d))
		typ, err := r.waitlistType(ctx, "Waitlist flood "+tag+" (load test)")
		if err != nil {
			fail(err)
			return result{name: name}
		}
		bookings, err := r.fullPlaces(ctx, typ, c.waitlistFreed, rng)
		if err != nil {
			fail(err)
			return result{name: name}
		}
		freed := map[string]bool{}
		for _, id := range bookings {
			_, sl, err := r.st.Booking(ctx, id)
			if err != nil {
				fail(err)
				return result{name: name}
			}
			freed[sl.ID.String()] = true
		}
		var entries []uuid.UUID
		if waiting {
			entries, err = r.joinWaitlist(ctx, typ, c.waitlistEntries, tag)
			if err != nil {
				fail(err)
				return result{name: name}
			}
		}
		if !prepare() {
			return result{name: name}
		}
		// The cancellations all at once, as the measured time starts; the
		// offers are counted as they commit.
		f := flooded{cancels: make([]cancel, len(bookings))}
		var fired sync.WaitGroup
		fired.Go(func() {
			time.Sleep(c.warmup)
			gate := make(chan struct{})
			var wg sync.WaitGroup
			for i, id := range bookings {
				wg.Go(func() { <-gate; f.cancels[i] = r.cancelBooking(ctx, token, id) })
			}
			t0 := time.Now()
			close(gate)
			wg.Wait()
			for waiting && time.Since(t0) < time.Minute && ctx.Err() == nil {
				if offers, err := r.offersFor(ctx, typ); err == nil && len(offers) >= len(bookings) {
					f.offersIn = time.Since(t0)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
		res := drive(ctx, name, c.clients, c.warmup, half, seed, r.bookingCall())
		fired.Wait()
		if !waiting {
			// Nobody waits: the places go back to availability, unoffered.
			for _, cl := range f.cancels {
				if cl.status != http.StatusOK {
					fail(fmt.Errorf("a cancellation with nobody waiting answered %d", cl.status))
				}
			}
			if offers, err := r.offersFor(ctx, typ); err != nil || len(offers) > 0 {
				fail(fmt.Errorf("with nobody waiting: %d offers (%v), want none", len(offers), err))
			}
			return res
		}
		offers, mails, err := r.waitOffers(ctx, typ, "wl-"+tag+"-", len(bookings), time.Minute)
		if err != nil {
			fail(err)
			return res
		}
		first := slices.MinFunc(f.cancels, func(a, b cancel) int { return a.sent.Compare(b.sent) }).sent
		for _, ts := range mails {
			for _, t := range ts {
				f.mail = max(f.mail, t.Sub(first))
			}
		}
		for _, cl := range f.cancels {
			if cl.status != http.StatusOK {
				f.broke = fmt.Sprintf("a cancellation answered %d", cl.status)
			}
		}
		if f.broke == "" {
			f.broke = checkOffers(offers, mails, freed)
		}
		floods = append(floods, f)
		if err := r.leaveWaitlist(ctx, entries); err != nil {
			fail(err)
		}
		return res
	}
	plain("booking, warm-up", c.seed+200)
	b1 := plain("booking, no waitlist", c.seed)
	c1 := flood(c.seed+2, false)
	s1 := flood(c.seed, true)
	s2 := flood(c.seed+1, true)
	c2 := flood(c.seed+3, false)
	b2 := plain("booking, no waitlist", c.seed+1)
	if rep.fatal != nil {
		return
	}
	// The goal compares the flood with the same cancellations when nobody
	// waits: what the waitlist adds (the offers, their holds, the emails).
	// Booking with no cancellation at all is reported beside it, its ratio
	// without a goal: what the cancellations themselves cost.
	calm, base, scen := merge(b1, b2), merge(c1, c2), merge(s1, s2)
	progress(calm)
	progress(base)
	progress(scen)
	if calm.rate() > 0 {
		scen.note = fmt.Sprintf("%.0f%% of booking with no cancellation", 100*scen.rate()/calm.rate())
	}
	rep.add(row{res: calm, baseline: true})
	rep.add(row{res: base, base: &calm, goalText: "(no goal) of no cancellation"})
	rep.add(row{res: scen, base: &base, goal: 0.7, goalText: ">= 70% of nobody waiting, no 5xx", no5xx: true})

	var all []cancel
	ok, notes := 0, []string{}
	for i, f := range floods {
		all = append(all, f.cancels...)
		if f.broke == "" {
			ok++
			notes = append(notes, fmt.Sprintf("flood %d: offers made %s, emails accepted %s after the first cancellation", i+1, ms(f.offersIn), ms(f.mail)))
		} else {
			notes = append(notes, fmt.Sprintf("flood %d: %s", i+1, f.broke))
		}
	}
	check := cancelResult(fmt.Sprintf("waitlist flood: %d cancels at once x %d", c.waitlistFreed, len(floods)), all, 0)
	for _, f := range floods { // each flood's cancellations took as long as the slowest
		var slowest time.Duration
		for _, cl := range f.cancels {
			slowest = max(slowest, cl.lat)
		}
		check.elapsed += slowest
	}
	check.note = fmt.Sprintf("%d/%d floods exactly %d offers and emails, none twice; %s", ok, len(floods), c.waitlistFreed, strings.Join(notes, "; "))
	rep.add(row{res: check, goalText: fmt.Sprintf("exactly %d offers, none twice", c.waitlistFreed), checked: true, checkOK: ok == len(floods)})
}
