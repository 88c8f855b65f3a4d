// Package webhook holds what the clinic's webhooks are: endpoints and their
// event filters, deliveries and their retry schedule, payload signing as the
// Standard Webhooks specification defines it (https://www.standardwebhooks.com),
// and the guard that keeps deliveries from reaching private networks. It has
// no HTTP framework and no database in it.
package webhook

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/clinic/consult/internal/booking"
)

// EventTypes are the event types an endpoint may subscribe to: the types of
// the live feed's events, which the domain lists (booking.FeedEventTypes).
var EventTypes = booking.FeedEventTypes()

// AllEvents, alone in an endpoint's EventTypes, subscribes it to every type,
// including types added later.
const AllEvents = "*"

// Limits of an endpoint's fields.
const (
	MaxURLLength         = 2048
	MaxDescriptionLength = 500
)

// Endpoint is a receiver of webhooks.
type Endpoint struct {
	ID          uuid.UUID
	URL         string
	Description string
	EventTypes  []string // AllEvents alone, or some of EventTypes
	Active      bool
	// Secret is the signing secret, "whsec_" and base64 of 32 random bytes.
	// It is shown to the admin only when made (created or rotated).
	Secret string
	// DisabledReason says why the server turned the endpoint off (a 410
	// Gone answer); empty when an admin did, or when it is active.
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Wants reports whether the endpoint is active and subscribed to eventType.
func (e Endpoint) Wants(eventType string) bool {
	if !e.Active {
		return false
	}
	return slices.Contains(e.EventTypes, AllEvents) || slices.Contains(e.EventTypes, eventType)
}

// CheckFields validates an endpoint's URL (syntax only: the address check
// needs the network, see Guard.CheckURL), description and event types,
// adding each problem to p under the API's field names. allowHTTP accepts
// http:// URLs (local development and tests).
func CheckFields(p *booking.Problems, rawURL, description string, eventTypes []string, allowHTTP bool) {
	checkURLSyntax(p, rawURL, allowHTTP)
	p.CheckLimit(utf8.RuneCountInString(description) <= MaxDescriptionLength, "description", booking.FieldTooLong, MaxDescriptionLength,
		fmt.Sprintf("must be at most %d characters", MaxDescriptionLength))
	CheckEventTypes(p, eventTypes)
}

// CheckEventTypes validates a list of event types: AllEvents alone, or one
// or more distinct known types.
func CheckEventTypes(p *booking.Problems, types []string) {
	if len(types) == 0 {
		p.AddLimit("event_types", booking.FieldTooFew, 1, `must name at least one event type, or be ["*"]`)
		return
	}
	if slices.Contains(types, AllEvents) {
		p.Check(len(types) == 1, "event_types", booking.FieldConflict, `"*" must be the only entry`)
		return
	}
	seen := map[string]bool{}
	for i, t := range types {
		field := fmt.Sprintf("event_types[%d]", i)
		switch {
		case !slices.Contains(EventTypes, t):
			p.AddEnum(field, append(slices.Clone(EventTypes), AllEvents), "must be one of "+strings.Join(EventTypes, ", ")+`, or "*" alone`)
		case seen[t]:
			p.Add(field, booking.FieldNotUnique, "is listed twice")
		}
		seen[t] = true
	}
}

func checkURLSyntax(p *booking.Problems, rawURL string, allowHTTP bool) {
	if utf8.RuneCountInString(rawURL) > MaxURLLength {
		p.AddLimit("url", booking.FieldTooLong, MaxURLLength, fmt.Sprintf("must be at most %d characters", MaxURLLength))
		return
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		p.Add("url", booking.FieldFormat, "must be an absolute https URL")
		return
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	default:
		p.Add("url", booking.FieldFormat, "must be an https URL")
		return
	}
	if u.User != nil {
		p.Add("url", booking.FieldFormat, "must not carry a user name or password")
		return
	}
	if u.Fragment != "" {
		p.Add("url", booking.FieldFormat, "must not have a fragment")
	}
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its next attempt
	DeliverySucceeded DeliveryStatus = "succeeded" // a 2xx answer arrived
	DeliveryFailed    DeliveryStatus = "failed"    // gave up: schedule exhausted, or the endpoint is gone or off
)

// Delivery is one event sent, or to be sent, to one endpoint, with the
// outcome of its latest attempt. Its ID is the webhook-id header: the same on
// every attempt and on a manual redelivery, so receivers can drop repeats.
type Delivery struct {
	ID               uuid.UUID
	EndpointID       uuid.UUID
	EventID          uuid.UUID // the booking event it reports
	EventType        string
	Status           DeliveryStatus
	Attempts         int
	LastStatusCode   int    // 0: no HTTP answer (yet)
	LastError        string // why the last attempt failed; empty on success
	LastResponseBody string // at most MaxResponseBody bytes of the last answer
	NextAttemptAt    *time.Time
	LastAttemptAt    *time.Time
	// StartedAt is when the current run of attempts began: at the change,
	// or at an admin's redelivery. The give-up period counts from it.
	StartedAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	// Payload is the body sent, the same on every attempt (a
	// WebhookPayload as JSON).
	Payload []byte
}

// MaxResponseBody is how much of a receiver's answer is kept.
const MaxResponseBody = 1024

// Schedule is the Standard Webhooks retry schedule: the first attempt at
// once, then these waits after each failure. A delivery that has failed
// len(Schedule)+1 times is given up.
var Schedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// NextAttempt returns the wait before the attempt that follows failed
// attempt number attempts (1 for the first), scaled by scale (1 in
// production; tests shrink the schedule), and false when the schedule is
// exhausted.
func NextAttempt(attempts int, scale float64) (time.Duration, bool) {
	if attempts < 1 || attempts > len(Schedule) {
		return 0, false
	}
	if scale <= 0 {
		scale = 1
	}
	return time.Duration(float64(Schedule[attempts-1]) * scale), true
}
