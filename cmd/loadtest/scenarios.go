package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// runner runs the scenarios against the in-process server.
type runner struct {
	cfg      config
	st       *store.Store
	k        *clinic
	policy   booking.Policy
	client   *http.Client
	api      string   // the first instance
	apis     []string // every instance; the clients of a scenario take them in turn
	uncached string   // the same server with the availability cache off
	floorURL string
	floor    *floor
	stderr   io.Writer
	timer    *serverTimer // times the requests the server at api serves, when on

	places    []uuid.UUID // free places for booking requests, one entry a place
	nextPlace atomic.Int64
	madeMu    sync.Mutex
	made      []uuid.UUID // the bookings booking calls made since the last recyclePlaces

	// floodServer starts a server for the flood with AVAILABILITY_CONCURRENCY
	// bound (negative: unbounded) and an availability cache of cacheBytes
	// (0: the default), and returns its URL and how to stop it.
	floodServer func(bound, cacheBytes int) (string, func(), error)
	// peakBeforeReset is the highest peak RSS seen before a reset of the
	// high-water mark (see resetPeak).
	peakBeforeReset int64
	msgs            *messaging   // the "messages" scenario's pipeline; nil when skipped
	msgsSkip        string       // why it is skipped
	wl              *waitlisting // the waitlist scenarios' pipeline; nil when skipped
	wlSkip          string       // why they are skipped
	wlProvider      uuid.UUID    // the provider of the waitlist scenarios' slots
	wlSlots         int          // slots made for them so far
}

// scenarios runs every scenario the config selects, each next to its
// baseline, and collects the report.
func (r *runner) scenarios(ctx context.Context) *report {
	rep := &report{}
	c := r.cfg
	progress := func(res result) {
		peak, now := peakRSS()
		gosys, heap := goMemory()
		fmt.Fprintf(r.stderr, "  %-40s %8d requests %9.0f req/s   RSS %3.0f MB (peak %3.0f MB; Go %3.0f MB, heap %3.0f MB)\n",
			res.name, res.requests, res.rate(), float64(now)/(1<<20), float64(peak)/(1<<20), float64(gosys)/(1<<20), float64(heap)/(1<<20))
	}
	d := func(name string, fn call) result {
		res := drive(ctx, name, c.clients, c.warmup, c.duration, c.seed, fn)
		progress(res)
		return res
	}
	// pair measures a scenario and its baseline in turns, baseline,
	// scenario, scenario, baseline, each for half the duration, so that a
	// noisy neighbour's drift weighs on both alike.
	pair := func(baseName string, baseFn call, name string, fn call) (result, result) {
		half := c.duration / 2
		b1 := drive(ctx, baseName, c.clients, c.warmup, half, c.seed, baseFn)
		s1 := drive(ctx, name, c.clients, c.warmup, half, c.seed, fn)
		s2 := drive(ctx, name, c.clients, c.warmup, half, c.seed+1, fn)
		b2 := drive(ctx, baseName, c.clients, c.warmup, half, c.seed+1, baseFn)
		base, scen := merge(b1, b2), merge(s1, s2)
		progress(base)
		progress(scen)
		return base, scen
	}
	var httpFloor *result
	queries, err := r.availabilityQueries(ctx)
	if err != nil {
		rep.fatal = err
		return rep
	}
	floorAvailability := r.availabilityCall([]string{r.floorURL + "/floor/availability?"}, queries, false)
	if c.runs("availability") {
		f, a := pair("HTTP floor: fixed bytes (200)", floorAvailability,
			"availability, 2 weeks (200)", r.availabilityCall(r.on("/v1/availability?"), queries, false))
		httpFloor = &f
		rep.add(row{res: f, baseline: true})
		rep.add(row{res: a, base: httpFloor, goal: 0.5, goalText: ">= 50% of HTTP floor"})
	}
	if c.runs("uncached") {
		if httpFloor == nil {
			f := d("HTTP floor: fixed bytes (200)", floorAvailability)
			httpFloor = &f
			rep.add(row{res: f, baseline: true})
		}
		u := d("availability, cache off (200)", r.availabilityCall([]string{r.uncached + "/v1/availability?"}, queries, false))
		rep.add(row{res: u, base: httpFloor, goalText: "(no goal: every request queries and encodes)"})
	}
	if c.runs("revalidate") {
		f, a := pair("HTTP floor: fixed bytes (browser mix)", r.availabilityCall([]string{r.floorURL + "/floor/availability?"}, queries, true),
			"availability, 2 weeks (browser mix)", r.availabilityCall(r.on("/v1/availability?"), queries, true))
		rep.add(row{res: f, baseline: true})
		rep.add(row{res: a, base: &f, goal: 0.5, goalText: ">= 50% of its floor"})
	}
	if c.runs("booking") || c.runs("mixed") || c.runs("messages") || c.runs("webhooks") || c.runs("waitlist-flood") {
		if err := r.findPlaces(ctx); err != nil {
			rep.fatal = err
			return rep
		}
	}
	if c.runs("booking") {
		f, b := pair("write floor: GORM tx insert", r.writeFloorCall(), "booking requests (POST)", r.bookingCall())
		if left := len(r.places) - int(r.nextPlace.Load()); left <= 0 {
			b.note = "ran out of free places"
		}
		rep.add(row{res: f, baseline: true})
		// The write path's goals: a third of the floor on SQLite, whose
		// one writer every booking waits for, 30% on PostgreSQL.
		goal, goalText := 0.35, ">= 35% of write floor, p99 < 50ms, no 5xx"
		if c.dbURL != "" {
			goal, goalText = 0.30, ">= 30% of write floor, p99 < 50ms, no 5xx"
		}
		rep.add(row{res: b, base: &f, goal: goal, maxP99: 50 * time.Millisecond, goalText: goalText, no5xx: true})
	}
	if c.runs("burst") && c.burstRounds > 0 {
		res, ok, note := r.bursts(ctx)
		fmt.Fprintf(r.stderr, "  %-40s %8d requests %s\n", res.name, res.requests, note)
		res.note = note
		rep.add(row{res: res, checked: true, checkOK: ok, goalText: "exactly 1 x 201, rest 409, every time"})
	}
	if c.runs("search") {
		tok, err := r.login(ctx)
		if err != nil {
			rep.fatal = err
			return rep
		}
		// Each search against the HTTP floor serving the very bytes the
		// server answered for it.
		for _, route := range []struct{ name, path string }{
			{"reception search GET /v1/bookings?q=", "/v1/bookings"},
			{"patient search GET /v1/patients?q=", "/v1/patients"},
		} {
			queries, err := r.searchQueries(ctx, tok, route.path)
			if err != nil {
				rep.fatal = err
				return rep
			}
			// The p99 goal is the server's: from the handler chain's start
			// to the response written, timed in the server (serverTimer),
			// without the clients' and the floor's share of the cores.
			r.timer.start()
			f, sr := pair("HTTP floor: the same search bytes", r.fixedCall([]string{r.floorURL + "/floor/availability?"}, queries, ""),
				route.name, r.fixedCall(r.on(route.path+"?"), queries, tok))
			sr.server = r.timer.stop(sr.windows)
			rep.add(row{res: f, baseline: true})
			rep.add(row{res: sr, base: &f, goal: 0.10, maxP99: 20 * time.Millisecond, serverP99: true,
				goalText: ">= 10% of its floor, server p99 < 20ms", no5xx: true})
		}
	}
	if c.runs("mixed") {
		// The widget's revalidating traffic while a few clients book, next to
		// its own floor: the HTTP floor's fixed bytes asked by as many
		// readers while as many writers book on the real server, so that
		// both sides share the cost of the bookings themselves and the ratio
		// measures what the bookings do to the availability cache. In turns,
		// as pair does: floor, scenario, scenario, floor.
		if err := r.recyclePlaces(ctx); err != nil {
			rep.fatal = err
			return rep
		}
		writers := max(1, c.clients/8)
		readers := max(1, c.clients-writers)
		half := c.duration / 2
		whileBooking := func(name string, fn call, seed uint64) (result, result) {
			var wg sync.WaitGroup
			var av, bk result
			wg.Add(2)
			go func() {
				defer wg.Done()
				av = drive(ctx, name, readers, c.warmup, half, seed, fn)
			}()
			go func() {
				defer wg.Done()
				bk = drive(ctx, fmt.Sprintf("  ... %d booking writers meanwhile", writers), writers, c.warmup, half, seed+1, r.bookingCall())
			}()
			wg.Wait()
			return av, bk
		}
		floorName := "HTTP floor: fixed bytes (browser mix, while booking)"
		floorFn := r.availabilityCall([]string{r.floorURL + "/floor/availability?"}, queries, true)
		name := "availability while booking (browser mix)"
		fn := r.availabilityCall(r.on("/v1/availability?"), queries, true)
		f1, _ := whileBooking(floorName, floorFn, c.seed)
		a1, b1 := whileBooking(name, fn, c.seed)
		a2, b2 := whileBooking(name, fn, c.seed+2)
		f2, _ := whileBooking(floorName, floorFn, c.seed+2)
		f, av, bk := merge(f1, f2), merge(a1, a2), merge(b1, b2)
		progress(f)
		progress(av)
		if left := len(r.places) - int(r.nextPlace.Load()); left <= 0 {
			bk.note = "ran out of free places"
		}
		rep.add(row{res: f, baseline: true})
		rep.add(row{res: av, base: &f, goal: 0.5, goalText: ">= 50% of its floor"})
		rep.add(row{res: bk, goalText: "(no goal)", no5xx: true})
	}
	if c.runs("flood") {
		r.flood(ctx, rep, progress)
	}
	if c.runs("messages") {
		r.messagesScenario(ctx, rep, progress)
	}
	// After messages: its queue knows nothing of the webhooks' queue.
	if c.runs("webhooks") {
		if err := r.webhookBacklog(ctx, rep); err != nil {
			rep.fatal = err
			return rep
		}
	}
	// Last: their entries and offers would reach the places the scenarios
	// above free.
	if c.runs("waitlist-offer") || c.runs("waitlist-flood") {
		if r.wl == nil {
			rep.add(row{res: result{name: "waitlist offers", note: "skipped: " + r.wlSkip}, goalText: "(skipped)"})
		} else if err := r.wl.start(ctx); err != nil {
			rep.fatal = err
			return rep
		}
	}
	if r.wl != nil && c.runs("waitlist-offer") && rep.fatal == nil {
		r.waitlistOfferScenario(ctx, rep, progress)
	}
	if r.wl != nil && c.runs("waitlist-flood") && rep.fatal == nil {
		r.waitlistFloodScenario(ctx, rep, progress)
	}
	rep.peak, rep.current = peakRSS()
	rep.peak = max(rep.peak, r.peakBeforeReset)
	return rep
}

// flood sends distinct 62-day availability questions from many clients at
// once, as an abuser would (each one a cache miss until the cache holds
// them), to a fresh server: first one as the server was before memory was
// bounded (computations unbounded, a 32 MB cache keeping answers up to
// 1 MB), then one with the production defaults (one computation a CPU, an
// 8 MB cache keeping answers up to 256 KB). It reports each run's own peak
// RSS: the high-water mark is reset before each.
func (r *runner) flood(ctx context.Context, rep *report, progress func(result)) {
	c := r.cfg
	for _, srv := range []struct {
		name       string
		bound      int
		cacheBytes int
		judged     bool
	}{
		{"availability flood, 62 days, before", -1, 32 << 20, false},
		{"availability flood, 62 days, bounded", 0, 0, true},
	} {
		url, stop, err := r.floodServer(srv.bound, srv.cacheBytes)
		if err != nil {
			rep.fatal = err
			return
		}
		r.resetPeak()
		res := drive(ctx, srv.name, c.floodClients, c.warmup, c.duration, c.seed, r.floodCall(url))
		peak, _ := peakRSS()
		stop()
		if srv.judged {
			r.peakBeforeReset = max(r.peakBeforeReset, peak)
		} else {
			// The old settings' peak is this row's figure, not the run's:
			// forget it before the next measurement.
			clearPeak()
		}
		progress(res)
		res.note = fmt.Sprintf("%d clients; its own peak RSS %.1f MB (high-water mark reset before it)", c.floodClients, float64(peak)/(1<<20))
		goal := "(unbounded, 32 MB cache)"
		if srv.judged {
			goal = "own peak RSS < 150 MB, no 5xx but 503 busy"
		}
		rep.add(row{res: res, goalText: goal, peak: peak, rssJudged: srv.judged})
	}
}

// floodCall asks base for a random 62-day window starting within the
// seeded future, for the whole clinic or one provider, location or type:
// hundreds of distinct questions.
func (r *runner) floodCall(base string) call {
	filters := []string{""}
	for _, p := range r.k.providers {
		filters = append(filters, "&provider_id="+p.String())
	}
	for _, l := range r.k.locations {
		filters = append(filters, "&location_id="+l.String())
	}
	for _, t := range r.k.types {
		filters = append(filters, "&consultation_type_id="+t.String())
	}
	span := max(1, r.cfg.futureDays-booking.MaxAvailabilityDays+1)
	return func(ctx context.Context, w *worker) (int, bool) {
		from := r.k.today.AddDays(w.rng.IntN(span))
		q := "from=" + from.String() + "&to=" + from.AddDays(booking.MaxAvailabilityDays-1).String() + filters[w.rng.IntN(len(filters))]
		status, _, _ := send(ctx, r.client, "GET", base+"/v1/availability?"+q, nil, nil, false)
		return status, true
	}
}

// resetPeak remembers the peak RSS so far for the run's total, then
// clears it (clearPeak).
func (r *runner) resetPeak() {
	peak, _ := peakRSS()
	r.peakBeforeReset = max(r.peakBeforeReset, peak)
	clearPeak()
}

// clearPeak frees what the Go runtime can and resets the process's peak RSS
// (VmHWM) to its current RSS (Linux: clear_refs 5).
func clearPeak() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// availabilityQueries are the widget's queries: a two-week window for one
// provider, starting today or on one of the next six days, for each
// provider. It fetches each from the server once, so the HTTP floor can
// serve the very same bytes.
func (r *runner) availabilityQueries(ctx context.Context) ([]string, error) {
	var out []string
	for _, p := range r.k.providers {
		for off := range 7 {
			from := r.k.today.AddDays(off)
			q := url.Values{}
			q.Set("from", from.String())
			q.Set("to", from.AddDays(13).String())
			q.Set("provider_id", p.String())
			raw := q.Encode()
			status, h, body := send(ctx, r.client, "GET", r.api+"/v1/availability?"+raw, nil, nil, true)
			if status != http.StatusOK {
				return nil, fmt.Errorf("availability %s: status %d: %s", raw, status, body)
			}
			r.floor.set(raw, body, h.Get("ETag"))
			out = append(out, raw)
		}
	}
	return out, nil
}

// on is path on every instance.
func (r *runner) on(path string) []string {
	out := make([]string, len(r.apis))
	for i, api := range r.apis {
		out[i] = api + path
	}
	return out
}

// availabilityCall asks for one of queries at one of bases, each client
// always the same one (clients take bases in turn). With revalidate, it
// behaves as browsers behind the widget do: half the requests come from a
// visitor who has the answer cached and revalidates it with If-None-Match
// (304 when unchanged), half from a new visitor.
func (r *runner) availabilityCall(bases []string, queries []string, revalidate bool) call {
	return func(ctx context.Context, w *worker) (int, bool) {
		base := bases[w.id%len(bases)]
		q := queries[w.rng.IntN(len(queries))]
		var h http.Header
		if revalidate {
			if tag, ok := w.tags[q]; ok && w.rng.IntN(2) == 0 {
				h = http.Header{"If-None-Match": {tag}}
			}
		}
		status, hdr, _ := send(ctx, r.client, "GET", base+q, nil, h, false)
		if revalidate && status == http.StatusOK {
			w.tags[q] = hdr.Get("ETag")
		}
		return status, true
	}
}

// findPlaces lists the free places the public can book now, shuffled: the
// booking scenario takes one each.
func (r *runner) findPlaces(ctx context.Context) error {
	if r.places != nil {
		return nil
	}
	now := time.Now()
	for from := r.k.today; !from.After(r.k.today.AddDays(r.cfg.futureDays)); from = from.AddDays(booking.MaxAvailabilityDays) {
		days, err := r.st.Availability(ctx, store.AvailabilityQuery{
			Days:   booking.DateRange{From: from, To: from.AddDays(booking.MaxAvailabilityDays - 1)},
			Policy: r.policy, Now: now.Add(time.Minute), // a minute's margin on MIN_NOTICE
		})
		if err != nil {
			return err
		}
		for _, d := range days {
			for _, sl := range d.Slots {
				for range sl.Remaining() {
					r.places = append(r.places, sl.ID)
				}
			}
		}
	}
	rng := mrand.New(mrand.NewPCG(r.cfg.seed, 7))
	rng.Shuffle(len(r.places), func(i, j int) { r.places[i], r.places[j] = r.places[j], r.places[i] })
	return nil
}

// requestBody is a booking request as the widget sends it.
func requestBody(slot uuid.UUID, rng *mrand.Rand) []byte {
	in := fakeRequest(slot, rng)
	body := map[string]any{
		"slot_id": slot.String(),
		"patient": map[string]any{
			"first_name": in.Patient.FirstName, "last_name": in.Patient.LastName,
			"date_of_birth": in.Patient.DateOfBirth, "phone": in.Patient.Phone, "email": in.Patient.Email,
		},
		"intake": map[string]any{
			"red_flags": in.Intake.RedFlags, "pain_severity": *in.Intake.PainSeverity, "relieved_by": in.Intake.RelievedBy,
			"pre_existing_conditions": append([]string{}, in.Intake.PreExistingConditions...),
			"spasm_frequency":         in.Intake.SpasmFrequency, "recent_physical_activity": *in.Intake.RecentPhysicalActivity,
			"reason": *in.Intake.Reason,
		},
		"consent": map[string]any{
			"privacy_policy_accepted": true, "contact_by_sms": *in.Consent.ContactBySMS, "contact_by_email": true,
		},
	}
	b, _ := json.Marshal(body)
	return b
}

// idempotencyKey is a fresh key, as the widget makes one per request.
func idempotencyKey() string { return uuid.NewString() }

// bookingCall sends one booking request for the next free place, with an
// Idempotency-Key as the widget does, to the client's instance.
func (r *runner) bookingCall() call {
	return func(ctx context.Context, w *worker) (int, bool) {
		i := int(r.nextPlace.Add(1)) - 1
		if i >= len(r.places) {
			return -1, false
		}
		body := requestBody(r.places[i], w.rng)
		h := http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {idempotencyKey()}}
		status, _, out := send(ctx, r.client, "POST", r.apis[w.id%len(r.apis)]+"/v1/booking-requests", body, h, true)
		if status == http.StatusCreated {
			var made struct {
				ID uuid.UUID `json:"id"`
			}
			if json.Unmarshal(out, &made) == nil && made.ID != uuid.Nil {
				r.madeMu.Lock()
				r.made = append(r.made, made.ID)
				r.madeMu.Unlock()
			}
		}
		return status, true
	}
}

// recyclePlaces gives back the places the booking calls took since it was
// last called, by cancelling their bookings through the store (unmeasured,
// between runs), and starts the list of places again: on a fast machine
// the scenarios that book would otherwise use up the seeded year's free
// places and leave the next ones, and the availability scenarios after
// them, with an empty calendar.
func (r *runner) recyclePlaces(ctx context.Context) error {
	r.madeMu.Lock()
	ids := r.made
	r.made = nil
	r.madeMu.Unlock()
	actor := booking.StaffActor(r.k.staffID)
	next := make(chan uuid.UUID)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for id := range next {
				_, _, err := r.st.UpdateBooking(ctx, id, nil, func(b *booking.Booking, _ booking.Slot) ([]booking.Event, error) {
					ev, err := b.Apply(booking.ActionCancel, actor, "load test: place given back", time.Now())
					return []booking.Event{ev}, err
				})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("recycle places: %w", err)
	default:
	}
	r.nextPlace.Store(0)
	return nil
}

// writeFloorCall sends the same kind of body to the write floor.
func (r *runner) writeFloorCall() call {
	return func(ctx context.Context, w *worker) (int, bool) {
		body := requestBody(r.places[w.rng.IntN(len(r.places))], w.rng)
		h := http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {idempotencyKey()}}
		status, _, _ := send(ctx, r.client, "POST", r.floorURL+"/floor/write", body, h, false)
		return status, true
	}
}

// bursts runs the last-place bursts: each round makes a fresh slot with one
// place and sends cfg.burst booking requests for it at once, on fresh
// connections. It reports whether every round ended with exactly one 201,
// the rest 409 slot_unavailable, and the slot's booked count at 1.
func (r *runner) bursts(ctx context.Context) (result, bool, string) {
	res := result{name: fmt.Sprintf("burst: %d at once for 1 place x %d", r.cfg.burst, r.cfg.burstRounds), statuses: map[int]int{}}
	ok := true
	note := ""
	others, otherLag := 0, time.Duration(0) // the other instances' looks, and the longest
	saturday := r.k.today
	for saturday.Weekday() != time.Saturday {
		saturday = saturday.AddDays(1)
	}
	for round := range r.cfg.burstRounds {
		day := saturday.AddDays(7 * (1 + round/8))
		start, _ := day.At(clock("08:00"), r.k.zone)
		start = start.Add(time.Duration(round%8) * time.Hour)
		slot := booking.Slot{
			ID: uuid.New(), ProviderID: r.k.providers[0], LocationID: r.k.locations[0], ConsultationTypeID: r.k.burstType,
			StartAt: start, EndAt: start.Add(30 * time.Minute), Capacity: 1, Status: booking.SlotOpen, CreatedAt: time.Now(),
		}
		if err := r.st.CreateSlot(ctx, slot); err != nil {
			return res, false, "create slot: " + err.Error()
		}
		// Fresh connections, as 200 browsers would open.
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: r.cfg.burst, DisableCompression: true}, Timeout: 60 * time.Second}
		type answer struct {
			status int
			code   string
			lat    time.Duration
			api    string // the instance asked
		}
		answers := make([]answer, r.cfg.burst)
		rng := mrand.New(mrand.NewPCG(r.cfg.seed, uint64(round)))
		bodies := make([][]byte, r.cfg.burst)
		for i := range bodies {
			bodies[i] = requestBody(slot.ID, rng)
		}
		// Every instance has the slot in its cache, offered, before the
		// burst: what each says after it is its cache's invalidation.
		for _, api := range r.apis {
			offered, err := r.offers(ctx, api, slot)
			if err != nil || !offered {
				return res, false, fmt.Sprintf("round %d: instance %s does not offer the new slot (%v)", round+1, api, err)
			}
		}
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for i := range r.cfg.burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {fmt.Sprintf("burst-%d-%d", round, i)}}
				<-gate
				t0 := time.Now()
				status, _, body := send(ctx, client, "POST", r.apis[i%len(r.apis)]+"/v1/booking-requests", bodies[i], h, true)
				a := answer{status: status, lat: time.Since(t0), api: r.apis[i%len(r.apis)]}
				var p struct {
					Code string `json:"code"`
				}
				if json.Unmarshal(body, &p) == nil {
					a.code = p.Code
				}
				answers[i] = a
			}()
		}
		t0 := time.Now()
		close(gate)
		wg.Wait()
		res.elapsed += time.Since(t0)
		client.CloseIdleConnections()
		won, lost := 0, 0
		winner := ""
		for _, a := range answers {
			res.statuses[a.status]++
			res.lat = append(res.lat, a.lat)
			switch {
			case a.status == http.StatusCreated:
				won++
				winner = a.api
			case a.status == http.StatusConflict && a.code == "slot_unavailable":
				lost++
			}
		}
		after, err := r.st.Slot(ctx, slot.ID)
		if err != nil {
			return res, false, "read slot: " + err.Error()
		}
		if won != 1 || lost != r.cfg.burst-1 || after.Booked != 1 {
			ok = false
			note += fmt.Sprintf("round %d: %d won, %d x 409, booked %d; ", round+1, won, lost, after.Booked)
		}
		// The place is taken: no instance may offer it any more, the
		// winner's at once (its own write), the others once the
		// database has told them (PostgreSQL NOTIFY, SQLite's watch).
		for _, api := range r.apis {
			gone, err := r.stopsOffering(ctx, api, slot)
			switch {
			case err != nil || gone < 0:
				ok = false
				note += fmt.Sprintf("round %d: %s still offers the taken place (%v); ", round+1, api, err)
			case api != winner:
				others++
				otherLag = max(otherLag, gone)
			}
		}
	}
	res.requests = len(res.lat)
	sortDurations(res.lat)
	if ok {
		note = fmt.Sprintf("%d/%d rounds exactly one winner", r.cfg.burstRounds, r.cfg.burstRounds)
		if others > 0 {
			note += fmt.Sprintf("; the taken place gone from the other instance's availability within %s", otherLag.Round(time.Millisecond))
		}
	}
	return res, ok, note
}

// offers reports whether the instance at api offers slot in its
// availability of the slot's day for the slot's provider.
func (r *runner) offers(ctx context.Context, api string, slot booking.Slot) (bool, error) {
	day := booking.DateOf(slot.StartAt, r.k.zone)
	q := url.Values{"from": {day.String()}, "to": {day.String()}, "provider_id": {slot.ProviderID.String()}}
	status, _, body := send(ctx, r.client, "GET", api+"/v1/availability?"+q.Encode(), nil, nil, true)
	if status != http.StatusOK {
		return false, fmt.Errorf("availability: status %d", status)
	}
	var days struct {
		Days []struct {
			Slots []struct {
				ID uuid.UUID `json:"id"`
			} `json:"slots"`
		} `json:"days"`
	}
	if err := json.Unmarshal(body, &days); err != nil {
		return false, fmt.Errorf("availability: %w", err)
	}
	for _, d := range days.Days {
		for _, sl := range d.Slots {
			if sl.ID == slot.ID {
				return true, nil
			}
		}
	}
	return false, nil
}

// stopsOffering asks the instance at api for slot's day until it no
// longer offers it, for at most two seconds, and returns how long that took
// (-1: it still did).
func (r *runner) stopsOffering(ctx context.Context, api string, slot booking.Slot) (time.Duration, error) {
	t0 := time.Now()
	for time.Since(t0) < 2*time.Second {
		offered, err := r.offers(ctx, api, slot)
		if err != nil {
			return -1, err
		}
		if !offered {
			return time.Since(t0), nil
		}
		time.Sleep(time.Millisecond)
	}
	return -1, nil
}

// login gets reception's access token over HTTP.
func (r *runner) login(ctx context.Context) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": r.k.staffEmail, "password": r.k.staffPass})
	status, _, out := send(ctx, r.client, "POST", r.api+"/v1/auth/login", body, http.Header{"Content-Type": {"application/json"}}, true)
	if status != http.StatusOK {
		return "", fmt.Errorf("login: status %d: %s", status, out)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(out, &tok); err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	return tok.AccessToken, nil
}

// searchQueries asks the server every search of the seeded clinic at path
// (names, references, phone digits, "first last"), records each answer as the
// floor's fixed bytes under its query, and returns the queries.
func (r *runner) searchQueries(ctx context.Context, token, path string) ([]string, error) {
	h := http.Header{"Authorization": {"Bearer " + token}}
	searches := r.k.searches
	if len(searches) == 0 {
		searches = []string{"smith"}
	}
	var out []string
	for i, q := range searches {
		if i == 120 {
			// Enough distinct questions: each costs a request here, and
			// its answer (some 20 KB) stays in the floor's memory, which
			// counts in the process's RSS.
			break
		}
		v := url.Values{}
		v.Set("limit", "20")
		v.Set("q", q)
		raw := v.Encode()
		status, hdr, body := send(ctx, r.client, "GET", r.api+path+"?"+raw, nil, h, true)
		if status != http.StatusOK {
			return nil, fmt.Errorf("search %s: status %d: %s", raw, status, body)
		}
		r.floor.set(raw, body, hdr.Get("ETag"))
		out = append(out, raw)
	}
	return out, nil
}

// fixedCall asks one of queries at one of bases (clients take them in
// turn), with the staff token when given.
func (r *runner) fixedCall(bases []string, queries []string, token string) call {
	var h http.Header
	if token != "" {
		h = http.Header{"Authorization": {"Bearer " + token}}
	}
	return func(ctx context.Context, w *worker) (int, bool) {
		status, _, _ := send(ctx, r.client, "GET", bases[w.id%len(bases)]+queries[w.rng.IntN(len(queries))], nil, h, false)
		return status, true
	}
}
