package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
)

// defaultFeedHeartbeat is how often an idle event stream sends a comment, so
// that proxies and load balancers do not close it for silence.
const defaultFeedHeartbeat = 15 * time.Second

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
// client leaves or the server shuts down. It subscribes to the feed before
// its first read, so a change committed between that read and the wait is
// never missed, and it reads everything after the last id it sent at each
// wake-up, so changes merged into one wake-up are all sent, in order, once.
func (s *Server) StreamFeedEvents(c *gin.Context, params api.StreamFeedEventsParams) {
	ctx := c.Request.Context()
	wake, unsubscribe := s.store.SubscribeFeed()
	defer unsubscribe()
	var after int64
	if params.LastEventID != nil && strings.TrimSpace(*params.LastEventID) != "" {
		n, ok := parseFeedID(*params.LastEventID)
		if !ok {
			s.fail(c, errBadRequest("invalid_parameter", "Last-Event-ID must be the id of an event of this stream"))
			return
		}
		after = n
	} else {
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
	for {
		for {
			events, err := s.store.FeedEvents(ctx, after, 100)
			if err != nil {
				if ctx.Err() == nil {
					s.log.WarnContext(ctx, "event stream: read feed", "error", err.Error())
				}
				return // the client reconnects with Last-Event-ID
			}
			for _, e := range events {
				data, err := json.Marshal(bookingSummaryJSON(e.Booking, e.Slot))
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
		case <-heartbeat.C:
			if _, err := fmt.Fprint(c.Writer, ": heartbeat\n\n"); err != nil {
				return
			}
			c.Writer.Flush()
		}
	}
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
	return api.FeedEvent{
		Id: e.ID, Type: api.FeedEventType(e.Type), OccurredAt: e.OccurredAt.UTC(),
		Booking: bookingSummaryJSON(e.Booking, e.Slot),
	}
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
