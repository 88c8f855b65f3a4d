package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/auth"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// defaultFeedHeartbeat is how often an idle event stream sends a comment, so
// that proxies and load balancers do not close it for silence.
const defaultFeedHeartbeat = 15 * time.Second

// defaultFeedRecheck is how often an idle event stream reads whether its
// caller still stands (active, same password, session not ended): with the
// read before every event, a stream ends within this (plus one query) of a
// deactivation, password change or logout made on any instance.
const defaultFeedRecheck = 2 * time.Second

// defaultFeedMaxStreams is how many event streams one staff member may hold
// open on one instance: a reception desk with a few screens and tabs.
const defaultFeedMaxStreams = 5

// ListFeedEvents is the live feed as a list: changes after the cursor,
// oldest first.
func (s *Server) ListFeedEvents(c *gin.Context, params api.ListFeedEventsParams) {
	limit := 50 // the parameter check has held a given limit to 1..200
	if params.Limit != nil {
		limit = *params.Limit
	}
	var after int64
	if params.Cursor != nil && *params.Cursor != "" {
		n, ok := parseFeedID(*params.Cursor)
		if !ok {
			s.fail(c, booking.Invalid("cursor", booking.FieldNotFound, "is not a cursor this API returned"))
			return
		}
		after = n
	}
	events, err := s.store.FeedEvents(c.Request.Context(), after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.FeedEventList{Items: make([]api.FeedEvent, 0, len(events))}
	for _, e := range events {
		out.Items = append(out.Items, feedEventJSON(e))
		after = e.ID
	}
	out.NextCursor = strconv.FormatInt(after, 10)
	c.JSON(http.StatusOK, out)
}

// StreamFeedEvents serves the live feed as Server-Sent Events until the
// client leaves, the server shuts down or the caller's credential ends. It
// subscribes to the feed before its first read, so a change committed
// between that read and the wait is never missed, and it reads everything
// after the last id it sent at each wake-up, so changes merged into one
// wake-up are all sent, in order, once.
//
// The stream carries patient data, so it lasts no longer than the access
// token that opened it: it ends at the token's expiry, and it reads the
// caller's standing (Recheck) before sending any event and every
// feedRecheck while idle, so a deactivation, password change or logout on
// any instance ends it within seconds and no event is sent after it. The
// client reconnects with a fresh token and Last-Event-ID and misses
// nothing. One staff member holds at most feedStreams' cap of streams on
// one instance; one more is refused (429 too_many_streams).
func (s *Server) StreamFeedEvents(c *gin.Context, params api.StreamFeedEventsParams) {
	ctx := c.Request.Context()
	p, ok := s.principal(c)
	if !ok {
		return
	}
	var after int64
	resume := params.LastEventID != nil && strings.TrimSpace(*params.LastEventID) != ""
	if resume {
		n, ok := parseFeedID(*params.LastEventID)
		if !ok {
			s.fail(c, errBadRequest("invalid_parameter", "Last-Event-ID must be the id of an event of this stream"))
			return
		}
		after = n
	}
	release, ok := s.feedStreams.acquire(p.StaffID)
	if !ok {
		s.fail(c, &httpError{status: http.StatusTooManyRequests, code: "too_many_streams", detail: fmt.Sprintf(
			"this account already has %d live-feed streams open on this server; close one before opening another", s.feedStreams.max)})
		return
	}
	defer release()
	wake, unsubscribe := s.store.SubscribeFeed()
	defer unsubscribe()
	if !resume {
		n, err := s.store.LastFeedID(ctx)
		if err != nil {
			s.fail(c, err)
			return
		}
		after = n
	}

	// The server's write timeout is for ordinary answers; a stream lasts.
	// (A middleware that wraps the writer must unwrap to the server's, or
	// this fails and the stream ends at the write timeout.)
	if err := http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{}); err != nil {
		s.log.WarnContext(ctx, "event stream: cannot lift the write timeout; the stream ends with it", "error", err.Error())
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	c.Status(http.StatusOK)
	// Tell EventSource how long to wait before reconnecting.
	if _, err := fmt.Fprint(c.Writer, "retry: 2000\n\n"); err != nil {
		return
	}
	c.Writer.Flush()

	heartbeat := time.NewTicker(s.feedHeartbeat)
	defer heartbeat.Stop()
	recheck := time.NewTicker(s.feedRecheck)
	defer recheck.Stop()
	expiry := time.NewTimer(time.Until(p.ExpiresAt))
	defer expiry.Stop()
	for {
		for {
			events, err := s.store.FeedEvents(ctx, after, 100)
			if err != nil {
				if ctx.Err() == nil {
					s.log.WarnContext(ctx, "event stream: read feed", "error", err.Error())
				}
				return // the client reconnects with Last-Event-ID
			}
			if len(events) > 0 && !s.streamMayGoOn(c, p) {
				return
			}
			for _, e := range events {
				data, err := feedDataJSON(e)
				if err != nil {
					s.log.ErrorContext(ctx, "event stream: encode", "error", err.Error())
					return
				}
				if _, err := fmt.Fprintf(c.Writer, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, data); err != nil {
					return
				}
				after = e.ID
			}
			if len(events) > 0 {
				c.Writer.Flush()
				heartbeat.Reset(s.feedHeartbeat)
			}
			if len(events) < 100 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-wake:
		case <-expiry.C:
			s.streamMayGoOn(c, p) // says why it ends
			return
		case <-recheck.C:
			if !s.streamMayGoOn(c, p) {
				return
			}
		case <-heartbeat.C:
			if _, err := fmt.Fprint(c.Writer, ": heartbeat\n\n"); err != nil {
				return
			}
			c.Writer.Flush()
		}
	}
}

// streamMayGoOn reads whether the caller of an open event stream still
// stands. When not (or when the answer cannot be read: the client
// reconnects and is checked afresh), it ends the stream with a comment
// saying why, which EventSource ignores and a person debugging reads.
func (s *Server) streamMayGoOn(c *gin.Context, p auth.Principal) bool {
	ctx := c.Request.Context()
	_, err := s.auth.Recheck(ctx, p)
	if err == nil {
		return true
	}
	why := "credential no longer valid"
	switch ae, ok := errors.AsType[*auth.Error](err); {
	case ok && ae.Reason != "":
		why = ae.Reason
	case !ok && ctx.Err() == nil:
		s.log.WarnContext(ctx, "event stream: recheck the caller", "error", err.Error())
		why = "try again"
	}
	fmt.Fprintf(c.Writer, ": stream closed: %s\n\n", why)
	c.Writer.Flush()
	return false
}

// streamSlots counts each staff member's open event streams on this
// instance, so that one account (or one stolen token) cannot hold the
// server's connections and feed reads.
type streamSlots struct {
	max  int // at most this many a staff member; <= 0: no cap
	mu   sync.Mutex
	open map[uuid.UUID]int
}

// newStreamSlots returns the counter for a cap as Options give it: 0 means
// defaultFeedMaxStreams, a negative number no cap.
func newStreamSlots(max int) *streamSlots {
	if max == 0 {
		max = defaultFeedMaxStreams
	}
	return &streamSlots{max: max, open: map[uuid.UUID]int{}}
}

// acquire takes one of id's stream slots, or reports false when id holds
// them all; release gives it back.
func (l *streamSlots) acquire(id uuid.UUID) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.open[id] >= l.max {
		return nil, false
	}
	l.open[id]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.open[id]--; l.open[id] <= 0 {
			delete(l.open, id)
		}
	}, true
}

// parseFeedID reads a feed id as the list's cursors and the stream's ids
// spell it: a decimal number, 0 or more.
func parseFeedID(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func feedEventJSON(e store.FeedEvent) api.FeedEvent {
	out := api.FeedEvent{Id: e.ID, Type: api.FeedEventType(e.Type), OccurredAt: e.OccurredAt.UTC()}
	if e.Waitlist != nil {
		w := waitlistFeedJSON(*e.Waitlist)
		out.Waitlist = &w
	} else {
		b := bookingSummaryJSON(e.Booking, e.Slot)
		out.Booking = &b
	}
	return out
}

// feedDataJSON is the data line of a stream event: the booking summary, or
// the waitlist entry for a waitlist step.
func feedDataJSON(e store.FeedEvent) ([]byte, error) {
	if e.Waitlist != nil {
		return json.Marshal(waitlistFeedJSON(*e.Waitlist))
	}
	return json.Marshal(bookingSummaryJSON(e.Booking, e.Slot))
}

// waitlistFeedJSON is a waitlist step as the feed and webhooks show it: the
// entry without the patient and without intake.
func waitlistFeedJSON(c booking.WaitlistChange) api.WaitlistFeedEntry {
	out := api.WaitlistFeedEntry{
		EventId: c.EventID, EntryId: c.EntryID, Reference: c.Reference, Status: api.WaitlistStatus(c.Status),
		ConsultationTypeId: c.ConsultationTypeID, ProviderId: c.ProviderID, LocationId: c.LocationID,
		SlotId: c.SlotID, BookingId: c.BookingID,
	}
	if c.Lapse != "" {
		out.Lapsed = new(string(c.Lapse))
	}
	if o := c.Offer; o != nil {
		out.Offer = &struct {
			ExpiresAt time.Time          `json:"expires_at"`
			SlotId    openapi_types.UUID `json:"slot_id"`
			StartAt   time.Time          `json:"start_at"`
		}{ExpiresAt: o.ExpiresAt.UTC(), SlotId: o.SlotID, StartAt: o.StartAt.UTC()}
	}
	return out
}

// bookingSummaryJSON is the booking as the feed and webhooks show it: the
// staff view without intake answers and without staff notes (free text that
// may hold clinical remarks, and that leaves the clinic with a webhook).
func bookingSummaryJSON(b booking.Booking, slot booking.Slot) api.BookingSummary {
	return api.BookingSummary{
		Id: b.ID, Reference: b.Reference, Status: api.BookingStatus(b.Status), Source: api.BookingSource(b.Source),
		Slot: bookingSlotJSON(slot), Patient: patientJSON(b.Patient), Consent: consentJSON(b.Consent),
		Version: b.Version, CancellationReason: nonEmpty(b.CancellationReason),
		CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(),
	}
}
