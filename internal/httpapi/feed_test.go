package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clinic/consult/internal/apitest"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/httpapi"
	"github.com/clinic/consult/internal/storetest"
)

// feedPage is GET /v1/booking-events.
type feedPage struct {
	Items []struct {
		ID         int64           `json:"id"`
		Type       string          `json:"type"`
		OccurredAt time.Time       `json:"occurred_at"`
		Booking    json.RawMessage `json:"booking"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// readFeed follows the list from cursor to its end, limit items a page,
// and returns every item's id, type and booking.
func readFeed(t *testing.T, e *env, token, cursor string, limit int) (ids []int64, types []string, bookings []json.RawMessage, next string) {
	t.Helper()
	for {
		q := "/v1/booking-events?limit=" + strconv.Itoa(limit)
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		r := e.do("GET", q, nil, token)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: got %d %s, want 200", q, r.Status, r.Body)
		}
		var p feedPage
		r.decode(t, &p)
		for _, it := range p.Items {
			ids = append(ids, it.ID)
			types = append(types, it.Type)
			bookings = append(bookings, it.Booking)
		}
		if p.NextCursor == "" {
			t.Fatalf("GET %s: next_cursor is empty, want always set", q)
		}
		cursor = p.NextCursor
		if len(p.Items) < limit {
			return ids, types, bookings, cursor
		}
	}
}

func TestFeedListsEveryChangeOnceInCommitOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		desk := e.token(auth.RoleReception)
		a := k.request(t, k.slot(t, slotOpts{}))
		b := k.request(t, k.slot(t, slotOpts{}))
		for _, step := range []struct {
			path string
			body any
		}{
			{"/v1/bookings/" + a.ID + "/confirm", nil},
			{"/v1/bookings/" + b.ID + "/decline", map[string]string{"reason": "referral needed"}},
			{"/v1/bookings/" + a.ID + "/reschedule", map[string]string{"slot_id": k.slot(t, slotOpts{}).String()}},
			{"/v1/bookings/" + a.ID + "/cancel", map[string]string{"reason": "patient called"}},
		} {
			if r := e.do("POST", step.path, step.body, desk); r.Status != http.StatusOK {
				t.Fatalf("POST %s: got %d %s, want 200", step.path, r.Status, r.Body)
			}
		}
		// A note is not a change the feed reports.
		if r := e.do("PATCH", "/v1/bookings/"+a.ID, map[string]string{"notes": "severe sciatica, see MRI"}, desk, "If-Match: *"); r.Status != http.StatusOK {
			t.Fatalf("PATCH notes: got %d %s", r.Status, r.Body)
		}

		clinician := e.token(auth.RoleClinician)
		ids, types, bookings, _ := readFeed(t, e, clinician, "", 50)
		wantTypes := []string{"booking.created", "booking.created", "booking.confirmed", "booking.declined", "booking.rescheduled", "booking.cancelled"}
		if !slices.Equal(types, wantTypes) {
			t.Fatalf("types: got %v, want %v", types, wantTypes)
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("ids: got %v, want increasing", ids)
			}
		}
		wantStatus := []string{"pending", "pending", "confirmed", "declined", "confirmed", "cancelled"}
		for i, raw := range bookings {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"intake", "notes", "manage_token"} {
				if _, ok := m[secret]; ok {
					t.Errorf("item %d: booking has %q, want it left out", i, secret)
				}
			}
			if m["status"] != wantStatus[i] {
				t.Errorf("item %d (%s): status got %v, want %s (the booking as it was after the change)", i, types[i], m["status"], wantStatus[i])
			}
		}
		if strings.Contains(string(slices.Concat(bookings...)), "sciatica") {
			t.Error("the feed carries staff notes")
		}

		// Pages of two, each starting after the previous one's cursor, give the
		// same list; asking again with the last cursor gives only what is new.
		pagedIDs, _, _, next := readFeed(t, e, clinician, "", 2)
		if !slices.Equal(pagedIDs, ids) {
			t.Fatalf("paged ids: got %v, want %v", pagedIDs, ids)
		}
		c := k.request(t, k.slot(t, slotOpts{}))
		newIDs, newTypes, newBookings, _ := readFeed(t, e, clinician, next, 2)
		if len(newIDs) != 1 || newTypes[0] != "booking.created" || !strings.Contains(string(newBookings[0]), c.Reference) {
			t.Fatalf("after the last cursor: got %v %v, want the one new booking.created", newIDs, newTypes)
		}
		// The stream's ids are cursors too.
		fromID, _, _, _ := readFeed(t, e, clinician, strconv.FormatInt(ids[3], 10), 50)
		if want := append(slices.Clone(ids[4:]), newIDs...); !slices.Equal(fromID, want) {
			t.Fatalf("after id %d: got %v, want %v", ids[3], fromID, want)
		}
	})
}

func TestFeedListRefusesBadInput(t *testing.T) {
	e := newEnv(t, sqliteURL(t))
	tok := e.token(auth.RoleReception)
	for _, tc := range []struct {
		query      string
		auth       bool
		wantStatus int
		wantCode   string
	}{
		{"", false, http.StatusUnauthorized, "unauthenticated"},
		{"?cursor=abc", true, http.StatusUnprocessableEntity, "validation_failed"},
		{"?cursor=-4", true, http.StatusUnprocessableEntity, "validation_failed"},
		{"?limit=0", true, http.StatusBadRequest, "invalid_parameter"},
		{"?limit=201", true, http.StatusBadRequest, "invalid_parameter"},
	} {
		var h []string
		if tc.auth {
			h = append(h, tok)
		}
		r := e.do("GET", "/v1/booking-events"+tc.query, nil, h...)
		if r.Status != tc.wantStatus || r.code() != tc.wantCode {
			t.Errorf("GET /v1/booking-events%s: got %d %s, want %d %s", tc.query, r.Status, r.code(), tc.wantStatus, tc.wantCode)
		}
	}
	r := e.do("GET", "/v1/booking-events/stream", nil, tok, "Last-Event-ID: yesterday")
	if r.Status != http.StatusBadRequest || r.code() != "invalid_parameter" {
		t.Errorf("stream with a bad Last-Event-ID: got %d %s, want 400 invalid_parameter", r.Status, r.code())
	}
}

// sseEvent is one event, or one comment, read from an event stream.
type sseEvent struct {
	ID, Event, Data string
	Comment         string
}

// sseStream is an open GET /v1/booking-events/stream read by a plain HTTP
// client (the response never ends, so the spec-checking client, which reads
// bodies whole, cannot be used for it).
type sseStream struct {
	res    *http.Response
	cancel context.CancelFunc
	events chan sseEvent
}

func openStream(t *testing.T, e *env, token, lastEventID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", e.URL+"/v1/booking-events/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	k, v, _ := strings.Cut(token, ":")
	req.Header.Set(k, strings.TrimSpace(v))
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open stream: %v", err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		res.Body.Close()
		cancel()
		t.Fatalf("open stream: got %d %q, want 200 text/event-stream", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &sseStream{res: res, cancel: cancel, events: make(chan sseEvent, 1000)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ev.Comment = strings.TrimSpace(line[1:])
			default:
				field, value, _ := strings.Cut(line, ":")
				value = strings.TrimPrefix(value, " ")
				switch field {
				case "id":
					ev.ID = value
				case "event":
					ev.Event = value
				case "data":
					ev.Data = value
				}
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

// close drops the connection, as a client that goes away does.
func (s *sseStream) close() {
	s.cancel()
	s.res.Body.Close()
}

// next returns the next event that is not a comment, failing t when none
// comes within wait.
func (s *sseStream) next(t *testing.T, wait time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.Event != "" {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event within %s", wait)
		}
	}
}

// quiet fails t when an event (not a comment) arrives within wait.
func (s *sseStream) quiet(t *testing.T, wait time.Duration) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev, ok := <-s.events:
			if ok && ev.Event != "" {
				t.Fatalf("got event %+v, want none", ev)
			}
			if !ok {
				return
			}
		case <-deadline:
			return
		}
	}
}

func fastHeartbeat(o *httpapi.Options, _ *auth.Options) { o.FeedHeartbeat = 100 * time.Millisecond }

func TestFeedStreamSendsChangesHeartbeatsAndResumesWithoutGapOrRepeat(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		desk := e.token(auth.RoleReception)
		clinician := e.token(auth.RoleClinician)
		before := k.request(t, k.slot(t, slotOpts{}))

		s := openStream(t, e, clinician, "")
		// Opened without Last-Event-ID: only changes from now on.
		if r := e.do("POST", "/v1/bookings/"+before.ID+"/confirm", nil, desk); r.Status != http.StatusOK {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
		ev := s.next(t, 5*time.Second)
		if ev.Event != "booking.confirmed" {
			t.Fatalf("first event: got %q, want booking.confirmed (the earlier creation is not replayed)", ev.Event)
		}
		var data map[string]any
		if err := json.Unmarshal([]byte(ev.Data), &data); err != nil {
			t.Fatalf("data %q: %v", ev.Data, err)
		}
		if data["reference"] != before.Reference || data["status"] != "confirmed" {
			t.Errorf("data: got %v, want booking %s confirmed", data, before.Reference)
		}
		if _, ok := data["intake"]; ok {
			t.Error("data carries intake")
		}

		// Idle: heartbeats (a comment line) keep coming.
		select {
		case got := <-s.events:
			if got.Comment != "heartbeat" {
				t.Fatalf("idle stream: got %+v, want a heartbeat comment", got)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("no heartbeat within 2s at a 100ms interval")
		}

		// The connection drops; three changes happen meanwhile; the client
		// resumes from the last id it saw and gets those three, once each.
		s.close()
		var want []string
		for range 3 {
			c := k.request(t, k.slot(t, slotOpts{}))
			want = append(want, c.Reference)
		}
		s2 := openStream(t, e, clinician, ev.ID)
		var got []string
		last, _ := strconv.ParseInt(ev.ID, 10, 64)
		for range 3 {
			ev := s2.next(t, 5*time.Second)
			id, err := strconv.ParseInt(ev.ID, 10, 64)
			if err != nil || id <= last {
				t.Fatalf("resumed event id %q after %d: want a larger number", ev.ID, last)
			}
			last = id
			var d struct {
				Reference string `json:"reference"`
			}
			_ = json.Unmarshal([]byte(ev.Data), &d)
			got = append(got, d.Reference)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("resumed: got %v, want %v", got, want)
		}
		s2.quiet(t, 300*time.Millisecond)
	}, fastHeartbeat)
}

// TestFeedStreamSeesOtherInstancesChanges runs two server instances on one
// database: a confirmation made through one reaches a stream open on the
// other within two seconds. On PostgreSQL the instances are told by
// LISTEN/NOTIFY; on SQLite (two stores on one file, as two processes) by the
// watcher's poll.
func TestFeedStreamSeesOtherInstancesChanges(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			one := newEnv(t, url)
			two := newEnv(t, url)
			k := newClinic(t, one)
			desk := one.token(auth.RoleReception)
			watcher := two.token(auth.RoleClinician)
			s := openStream(t, two, watcher, "")
			var lat []time.Duration
			for range 5 {
				c := k.request(t, k.slot(t, slotOpts{}))
				if ev := s.next(t, 5*time.Second); ev.Event != "booking.created" {
					t.Fatalf("got %s, want booking.created", ev.Event)
				}
				start := time.Now()
				if r := one.do("POST", "/v1/bookings/"+c.ID+"/confirm", nil, desk); r.Status != http.StatusOK {
					t.Fatalf("confirm: %d %s", r.Status, r.Body)
				}
				ev := s.next(t, 5*time.Second)
				d := time.Since(start)
				if ev.Event != "booking.confirmed" || !strings.Contains(ev.Data, c.ID) {
					t.Fatalf("got %s %s, want booking.confirmed of %s", ev.Event, ev.Data, c.ID)
				}
				lat = append(lat, d)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			t.Logf("%s: confirm on one instance -> event on the other's stream (request included): median %s, max %s", b.Name, lat[len(lat)/2], lat[len(lat)-1])
			if lat[len(lat)-1] >= 2*time.Second {
				t.Errorf("slowest: got %s, want under 2s", lat[len(lat)-1])
			}
		})
	}
}

// TestFeedIDsCommitInOrder books concurrently while a reader follows the
// list, each time asking for what comes after the last id it saw. Were ids
// to commit out of order (as a sequence's can), the reader would at some
// point skip one that committed late; here it must see every id, 1 to n.
func TestFeedIDsCommitInOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		tok := e.token(auth.RoleReception)
		const n = 60
		slots := make([]uuid.UUID, 3)
		for i := range slots {
			slots[i] = k.slot(t, slotOpts{capacity: n})
		}
		stop := make(chan struct{})
		var seen []int64
		var readErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			cursor := ""
			for {
				finished := false
				select {
				case <-stop:
					finished = true
				default:
				}
				for {
					r, err := e.send("GET", "/v1/booking-events?limit=200&cursor="+cursor, nil, tok)
					if err != nil || r.Status != http.StatusOK {
						readErr = fmt.Errorf("read feed: %v %d %s", err, r.Status, r.Body)
						return
					}
					var p feedPage
					if err := json.Unmarshal(r.Body, &p); err != nil {
						readErr = err
						return
					}
					for _, it := range p.Items {
						seen = append(seen, it.ID)
					}
					cursor = p.NextCursor
					if len(p.Items) < 200 {
						break
					}
				}
				if finished {
					return
				}
			}
		})
		var writers sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			writers.Go(func() {
				r, err := e.send("POST", "/v1/booking-requests", requestBody(slots[i%len(slots)]))
				if err == nil && r.Status != http.StatusCreated {
					err = fmt.Errorf("got %d %s", r.Status, r.Body)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		writers.Wait()
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("booking: %v", err)
		}
		if readErr != nil {
			t.Fatal(readErr)
		}
		if len(seen) != n {
			t.Fatalf("the reader saw %d events, want %d: %v", len(seen), n, seen)
		}
		for i, id := range seen {
			if id != int64(i+1) {
				t.Fatalf("the reader saw ids %v, want 1 to %d in order", seen, n)
			}
		}
	}, noRateLimit)
}

// The server's write timeout bounds ordinary answers; an event stream
// outlives it. A server with a 300 ms write timeout still delivers an event
// and heartbeats a second after the stream opened.
func TestFeedStreamOutlivesTheWriteTimeout(t *testing.T) {
	st := storetest.Open(t, sqliteURL(t))
	authSvc, err := auth.NewService(st, auth.Options{
		JWTSecret: []byte("test-secret-test-secret-test-secret!"), Issuer: "clinic-booking", Audience: "clinic-staff", PasswordCost: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	h, err := httpapi.NewServer(httpapi.Deps{
		Store: st, Auth: authSvc, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Done: done,
		Options: httpapi.Options{BodyLimit: 64 << 10, Policy: testPolicy, FeedHeartbeat: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	e := &env{t: t, URL: srv.URL, Store: st, Auth: authSvc,
		client: &http.Client{Transport: apitest.Transport(t, nil), Timeout: 30 * time.Second}}
	k := newClinic(t, e)
	s := openStream(t, e, e.token(auth.RoleClinician), "")
	time.Sleep(time.Second)
	c := k.request(t, k.slot(t, slotOpts{}))
	ev := s.next(t, 5*time.Second)
	if ev.Event != "booking.created" || !strings.Contains(ev.Data, c.ID) {
		t.Fatalf("after 1s: got %+v, want the booking.created of %s", ev, c.ID)
	}
}

// Undoing a check-in at the front desk is a change reception screens and
// other systems must see: it is in the feed as booking.reverted, with the
// booking confirmed again.
func TestFeedReportsReverts(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		k := newClinic(t, e)
		desk := e.token(auth.RoleReception)
		// A phone booking within the hour, so check-in is open now.
		b := k.staffBook(t, desk, requestBody(k.slot(t, slotOpts{start: time.Now().Add(time.Hour).Truncate(time.Minute)})))
		for _, step := range []struct {
			path string
			body any
		}{
			{"/v1/bookings/" + b.ID + "/check-in", nil},
			{"/v1/bookings/" + b.ID + "/revert", map[string]string{"reason": "checked in the wrong patient"}},
		} {
			if r := e.do("POST", step.path, step.body, desk); r.Status != http.StatusOK {
				t.Fatalf("POST %s: got %d %s, want 200", step.path, r.Status, r.Body)
			}
		}
		_, types, bookings, _ := readFeed(t, e, desk, "", 50)
		want := []string{"booking.created", "booking.checked_in", "booking.reverted"}
		if !slices.Equal(types, want) {
			t.Fatalf("types: got %v, want %v", types, want)
		}
		var last struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(bookings[len(bookings)-1], &last); err != nil {
			t.Fatal(err)
		}
		if last.Status != "confirmed" {
			t.Errorf("after the revert: status got %q, want confirmed", last.Status)
		}
	})
}
