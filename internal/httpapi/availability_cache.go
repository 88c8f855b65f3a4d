package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// availabilityCacheBytes bounds the memory the availability cache holds by
// default: bodies plus a fixed overhead an entry. An answer over a 32nd of
// the bound (256 KB by default: a two-week answer for a whole clinic fits,
// a 62-day one does not) is not kept, so that a flood of long, distinct
// questions cannot push out the widget's small, hot ones, nor keep the
// bound full of answers nobody asks for twice. The Go heap grows to about
// twice what is live, so every cached byte costs about two of memory.
const (
	availabilityCacheBytes = 8 << 20
	availabilityEntryCost  = 256
)

// availabilityCache keeps the encoded answers of GET /v1/availability, with
// their ETags, by normalised query, so that the widget's traffic costs one
// query and one encoding per distinct question between two writes rather
// than one per request.
//
// An answer is served from the cache only while both of its inputs are
// unchanged:
//
//   - the data: every answer is stored under the store's
//     AvailabilityVersion for its question read before its query ran, and
//     served only while the store still reports that version. The store
//     moves the version of a question about a provider (or, without one,
//     about any provider) after every committed write to that provider's
//     slots starting on the question's days (created, generated, updated,
//     blocked, deleted, a place taken or released by any booking transition
//     or reschedule, a hold), and all versions after a catalogue change,
//     before the writing call returns; and for writes by other instances on
//     the same database: on SQLite within a millisecond (it reads the
//     file's record of changes), on PostgreSQL when their NOTIFY arrives.
//     While the store cannot vouch for that (PostgreSQL without a listening
//     connection), nothing is cached. So a booking leaves the cached
//     answers about other providers, and about other weeks, as they are.
//   - the clock: an answer is served only until the store's
//     AvailabilityValidUntil, the moment its first slot leaves the booking
//     window (start - MIN_NOTICE) or a slot of its range enters it
//     (start - MAX_ADVANCE).
//
// A write that only takes or frees places of a slot (a booking made,
// cancelled, declined, expired or moved; a hold placed or released) moves
// no version: the store hands the slot's new places to patch instead, at
// the same moments it would have moved the versions, and patch rewrites
// the cached answers that hold the slot (its remaining, or the slot taken
// out when it has none left; an answer that should now list a slot it
// left out for want of a place is dropped). A patched answer is byte for
// byte what a fresh computation encodes, with the ETag of its new bytes,
// so the widget's answers survive the bookings made meanwhile
// (TestPatchedAvailabilityMatchesRecomputation). A computation under way
// while a change is patched in gets it patched in before it is cached
// (catchUp).
//
// So a place taken by a write that has returned is never offered again by
// this process, and one taken by another instance is offered at most a
// millisecond longer on SQLite, and until its notification arrives on
// PostgreSQL (milliseconds; see store.AvailabilityVersion). Either way the
// booking itself is decided by the database: a stale offer can only end in
// 409 slot_unavailable, never in an overbooking.
//
// Concurrent misses for one query and version wait for one computation
// instead of each running the query (the widget's traffic right after a
// booking). The cache holds at most maxBytes; an answer of an old version
// stays until its question is answered again or it is evicted.
type availabilityCache struct {
	maxBytes int // what the entries may cost together
	mu       sync.Mutex
	entries  map[string]*availabilityAnswer
	bytes    int
	flights  map[string]*availabilityFlight

	// The place changes patched in (see patch), numbered: seq is the
	// number of the last, patches the most recent ones, the first of them
	// numbered seq-len(patches)+1.
	seq     uint64
	patches [][]store.SlotPlaces
}

// availabilityPatchLog is how many place changes the cache remembers for
// the computations that started before them (see availabilityCache.patch).
const availabilityPatchLog = 256

// availabilityAnswer is one encoded answer.
type availabilityAnswer struct {
	version uint64 // the store's AvailabilityVersion it was read under
	body    []byte
	etag    string
	until   time.Time // right while now is not after it; zero: no expiry
	q       store.AvailabilityQuery
}

func (a *availabilityAnswer) validAt(now time.Time) bool {
	return a.until.IsZero() || !now.After(a.until)
}

func (a *availabilityAnswer) cost() int { return len(a.body) + availabilityEntryCost }

// availabilityFlight is one computation that requests for the same query
// and version wait for.
type availabilityFlight struct {
	version uint64
	seq     uint64 // the cache's place changes when it started
	upTo    uint64 // the place changes answer holds, once done
	done    chan struct{}
	answer  *availabilityAnswer
	err     error
}

// newAvailabilityCache returns a cache of at most maxBytes; 0 means
// availabilityCacheBytes.
func newAvailabilityCache(maxBytes int) *availabilityCache {
	if maxBytes <= 0 {
		maxBytes = availabilityCacheBytes
	}
	return &availabilityCache{maxBytes: maxBytes, entries: map[string]*availabilityAnswer{}, flights: map[string]*availabilityFlight{}}
}

// availability answers q, whose normalised form is key, from the cache when
// it may, else from the store, caching the answer when it may.
func (s *Server) availability(ctx context.Context, key string, q store.AvailabilityQuery) (*availabilityAnswer, error) {
	version, cacheable := s.store.AvailabilityVersion(q)
	if !cacheable || s.opts.NoAvailabilityCache {
		return s.computeAvailability(ctx, q, false)
	}
	c := s.availCache
	c.mu.Lock()
	if a := c.entries[key]; a != nil && a.version == version && a.validAt(q.Now) {
		c.mu.Unlock()
		return a, nil
	}
	if f := c.flights[key]; f != nil && f.version == version {
		joined := c.seq
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// The answer must hold the place changes made before this request.
		if f.err == nil && f.upTo >= joined && f.answer.validAt(q.Now) {
			return f.answer, nil
		}
		return s.computeAvailability(ctx, q, false)
	}
	f := &availabilityFlight{version: version, seq: c.seq, done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()

	a, err := s.computeAvailability(ctx, q, true)
	c.mu.Lock()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	f.answer, f.err, f.upTo = a, err, f.seq
	if err == nil {
		a.version, a.q = version, q
		// Its query may have run before place changes patched in since it
		// started: patch them in too, or keep it only for this request.
		if caught := c.catchUp(a, f.seq); caught != nil {
			f.answer, f.upTo = caught, c.seq
			c.put(key, caught)
		}
	}
	c.mu.Unlock()
	close(f.done)
	return f.answer, f.err
}

// catchUp returns a with the place changes after the since-th patched in,
// or nil when the cache no longer remembers them all or one of them
// cannot be patched in; c.mu is held.
func (c *availabilityCache) catchUp(a *availabilityAnswer, since uint64) *availabilityAnswer {
	if since == c.seq {
		return a
	}
	first := c.seq - uint64(len(c.patches)) + 1
	if since+1 < first {
		return nil
	}
	for _, places := range c.patches[since+1-first:] {
		if a = patchAnswer(a, places); a == nil {
			return nil
		}
	}
	return a
}

// patch brings the cached answers up to date with a write that only took
// or freed places (store.OnPlaces): an answer that offers one of the slots
// gets its new remaining, or loses it when none is left; one that does not
// offer it stays as it is while the slot offers none, and is dropped when
// the slot offers some again (it cannot tell whether the slot belongs in
// it). Each answer patched gets its ETag from its new bytes. The change is
// remembered for the computations under way (see catchUp).
func (c *availabilityCache) patch(places []store.SlotPlaces) {
	c.mu.Lock()
	c.seq++
	c.patches = append(c.patches, places)
	if len(c.patches) > availabilityPatchLog {
		c.patches = slices.Delete(c.patches, 0, len(c.patches)-availabilityPatchLog)
	}
	var affected []patched
	for key, a := range c.entries {
		for _, p := range places {
			if a.q.Covers(p.ProviderID, p.Day) {
				affected = append(affected, patched{key: key, old: a})
				break
			}
		}
	}
	c.mu.Unlock()
	// Copying and hashing the bodies happens outside the lock, which every
	// request takes; the patches are serialised by the store (OnPlaces), and
	// an answer cached meanwhile caught up with this one by itself.
	n := 0
	for _, e := range affected {
		if e.new = patchAnswer(e.old, places); e.new != e.old {
			affected[n] = e
			n++
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range affected[:n] {
		if c.entries[e.key] != e.old {
			continue // replaced or evicted meanwhile
		}
		c.bytes -= e.old.cost()
		if e.new == nil {
			delete(c.entries, e.key)
			continue
		}
		c.entries[e.key] = e.new
		c.bytes += e.new.cost()
	}
}

// patched is a cached answer and what a place change makes of it.
type patched struct {
	key      string
	old, new *availabilityAnswer
}

// patchAnswer returns a with the places patched in: a itself when they
// change nothing of it, a new answer when they do (a may be in use), nil
// when a must be dropped.
func patchAnswer(a *availabilityAnswer, places []store.SlotPlaces) *availabilityAnswer {
	out := a
	for _, p := range places {
		body, until, changed := out.body, out.until, false
		start, end, found := findSlot(body, p.ID)
		includes := found || a.q.Includes(p)
		switch {
		case found && p.Offered:
			body, changed = setRemaining(body, start, end, p.Remaining)
		case found:
			body, changed = removeSlot(body, start, end), true
		case includes && p.Offered:
			// A place freed on a slot the answer leaves out for want of
			// one: computed again rather than placed among the others.
			return nil
		}
		if includes && !p.HoldExpiry.IsZero() {
			// Counted while expires_at > now: right until just before it.
			if h := p.HoldExpiry.Add(-time.Nanosecond); until.IsZero() || h.Before(until) {
				until = h
			}
		}
		if !changed && until.Equal(out.until) {
			continue
		}
		n := *out
		n.body, n.until = body, until
		if changed {
			n.etag = availabilityETag(body)
		}
		out = &n
	}
	return out
}

// findSlot finds the object of slot id in an encoded answer: body[start:end].
func findSlot(body []byte, id uuid.UUID) (start, end int, ok bool) {
	needle := appendUUID([]byte(`"id":"`), id)
	i := bytes.Index(body, append(needle, '"'))
	if i < 0 {
		return 0, 0, false
	}
	start = bytes.LastIndexByte(body[:i], '{')
	j := bytes.IndexByte(body[i:], '}')
	if start < 0 || j < 0 {
		return 0, 0, false
	}
	return start, i + j + 1, true
}

// setRemaining returns body with the remaining of the slot object at
// body[start:end] set to n, and whether that changed it: body itself when
// it has n already, else a copy.
func setRemaining(body []byte, start, end, n int) ([]byte, bool) {
	const field = `"remaining":`
	i := bytes.Index(body[start:end], []byte(field))
	if i < 0 {
		return body, false
	}
	from := start + i + len(field)
	to := from
	for to < end && body[to] >= '0' && body[to] <= '9' {
		to++
	}
	num := strconv.AppendInt(nil, int64(n), 10)
	if bytes.Equal(body[from:to], num) {
		return body, false
	}
	out := make([]byte, 0, len(body)-(to-from)+len(num))
	out = append(out, body[:from]...)
	out = append(out, num...)
	return append(out, body[to:]...), true
}

// removeSlot returns a copy of body without the slot object at
// body[start:end], and without its day when it was the day's only slot
// (an answer lists no empty day).
func removeSlot(body []byte, start, end int) []byte {
	if body[start-1] == '[' && body[end] == ']' {
		// The day's only slot: the day goes, from its '{' to its '}'.
		start = bytes.LastIndex(body[:start], []byte(`{"date":`))
		end += bytes.IndexByte(body[end:], '}') + 1
	}
	switch {
	case body[start-1] == ',':
		start--
	case body[end] == ',':
		end++
	}
	out := make([]byte, 0, len(body)-(end-start))
	out = append(out, body[:start]...)
	return append(out, body[end:]...)
}

// put stores a under key; c.mu is held. An answer of an older version than
// the one cached under key is dropped (versions only grow).
func (c *availabilityCache) put(key string, a *availabilityAnswer) {
	if old := c.entries[key]; old != nil {
		if old.version > a.version {
			return
		}
		c.bytes -= old.cost()
		delete(c.entries, key)
	}
	if a.cost() > c.maxBytes/32 {
		return // a huge answer would push out many small ones
	}
	for k, old := range c.entries {
		if c.bytes+a.cost() <= c.maxBytes {
			break
		}
		// Map order is unspecified: a cheap random eviction.
		c.bytes -= old.cost()
		delete(c.entries, k)
	}
	c.entries[key] = a
	c.bytes += a.cost()
}

// availabilityQueueWait is how long an availability request waits for one
// of the AvailabilityConcurrency computations to free up before it is
// answered 503 busy.
const availabilityQueueWait = 2 * time.Second

// errAvailabilityBusy answers a request that found every availability
// computation taken for availabilityQueueWait.
var errAvailabilityBusy = &httpError{status: http.StatusServiceUnavailable, code: "busy",
	detail: "too many availability requests at once; try again shortly", retryAfter: time.Second}

// heavySlots bounds the availability answers computed from the database at
// once. An uncached answer of a long range holds its query's rows, the
// domain days and the encoded body at the same time (up to a megabyte of
// JSON for 62 days of a busy clinic), so a flood of distinct questions would
// otherwise grow the process's memory and latency with the requests in
// flight; with the bound they queue briefly, then get 503 busy. A
// heavySlots with a nil channel is unbounded.
type heavySlots struct {
	ch   chan struct{}
	wait time.Duration // how long a request queues before 503 busy
}

// newHeavySlots bounds the computations at n; 0 means one a CPU (they are
// CPU-bound: more at once only hold more memory), a negative n none.
func newHeavySlots(n int) heavySlots {
	switch {
	case n < 0:
		return heavySlots{}
	case n == 0:
		n = runtime.GOMAXPROCS(0)
	}
	return heavySlots{ch: make(chan struct{}, n), wait: availabilityQueueWait}
}

// acquire waits for a free computation, at most h.wait; the returned
// function gives it back. It returns errAvailabilityBusy after the wait and
// ctx's error when the client leaves first.
func (h heavySlots) acquire(ctx context.Context) (func(), error) {
	if h.ch == nil {
		return func() {}, nil
	}
	release := func() { <-h.ch }
	select {
	case h.ch <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.ch <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, errAvailabilityBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// computeAvailability queries the store and encodes the answer with its
// ETag; with expiry, it also asks until when the answer holds. At most
// AvailabilityConcurrency run at once (see heavySlots).
func (s *Server) computeAvailability(ctx context.Context, q store.AvailabilityQuery, expiry bool) (*availabilityAnswer, error) {
	release, err := s.heavy.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	// One store call either way: the answer alone, or with its expiry.
	var result []booking.Day
	var until time.Time
	if expiry {
		result, until, err = s.store.AvailabilityUntil(ctx, q)
	} else {
		result, err = s.store.Availability(ctx, q)
	}
	if err != nil {
		return nil, err
	}
	body, err := encodeAvailability(result)
	if err != nil {
		return nil, err
	}
	return &availabilityAnswer{body: body, etag: availabilityETag(body), until: until}, nil
}

// availabilityETag is the ETag of an encoded answer: a hash of its bytes.
func availabilityETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// encodeAvailability is the JSON body of an availability answer: what
// encoding/json makes of api.Availability, byte for byte (a test holds them
// equal), written by hand because reflection made encoding cost a quarter of
// an uncached answer (BenchmarkEncodeAvailability).
func encodeAvailability(result []booking.Day) ([]byte, error) {
	n := 0
	for _, d := range result {
		n += 64 + 300*len(d.Slots)
	}
	b := make([]byte, 0, 16+n)
	b = append(b, `{"days":[`...)
	for i, d := range result {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"date":`...)
		b = appendJSONString(b, d.Date.String())
		b = append(b, `,"slots":[`...)
		for j, sl := range d.Slots {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"consultation_type_id":"`...)
			b = appendUUID(b, sl.ConsultationTypeID)
			b = append(b, `","end_at":`...)
			var err error
			if b, err = appendJSONTime(b, sl.EndAt); err != nil {
				return nil, err
			}
			b = append(b, `,"id":"`...)
			b = appendUUID(b, sl.ID)
			b = append(b, `","location_id":"`...)
			b = appendUUID(b, sl.LocationID)
			b = append(b, `","provider_id":"`...)
			b = appendUUID(b, sl.ProviderID)
			b = append(b, `","remaining":`...)
			b = strconv.AppendInt(b, int64(sl.Remaining()), 10)
			b = append(b, `,"start_at":`...)
			if b, err = appendJSONTime(b, sl.StartAt); err != nil {
				return nil, err
			}
			b = append(b, '}')
		}
		b = append(b, `],"timezone":`...)
		b = appendJSONString(b, d.Timezone)
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// appendUUID appends id in its canonical lower-case form, unquoted.
func appendUUID(b []byte, id uuid.UUID) []byte {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], id[10:])
	return append(b, buf[:]...)
}

// appendJSONTime appends t as time.Time's MarshalJSON does: RFC 3339 with
// the sub-second digits it has, quoted.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}

// appendJSONString appends s as a JSON string: as it is when it needs no
// escaping (dates, IANA zone names), else as encoding/json escapes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s)
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
