package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/webhook"
)

// Webhooks is what the webhook routes need beside the store: the address
// guard for endpoint URLs and the queue for redeliveries. *webhookrelay.Sender
// has both.
type Webhooks interface {
	// CheckURL returns a *booking.ValidationError naming "url" for a URL
	// deliveries may not go to.
	CheckURL(ctx context.Context, rawURL string) error
	// Redeliver queues a delivery again; booking.ErrNotFound when unknown.
	Redeliver(ctx context.Context, id uuid.UUID) (webhook.Delivery, error)
}

// noWebhooks serves a server built without a delivery queue (some tests):
// URLs are checked with the strict guard, and redelivery is unavailable.
type noWebhooks struct{}

func (noWebhooks) CheckURL(ctx context.Context, rawURL string) error {
	return webhook.Guard{}.CheckURL(ctx, rawURL)
}

func (noWebhooks) Redeliver(context.Context, uuid.UUID) (webhook.Delivery, error) {
	return webhook.Delivery{}, errors.New("webhook deliveries are not running in this server")
}

// ListWebhookEndpoints lists the endpoints, without secrets.
func (s *Server) ListWebhookEndpoints(c *gin.Context, params api.ListWebhookEndpointsParams) {
	items, next, err := s.store.ListWebhookEndpoints(c.Request.Context(), deref(params.Cursor), deref(params.Limit))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.WebhookEndpointList{Items: make([]api.WebhookEndpoint, 0, len(items)), NextCursor: nonEmpty(next)}
	for _, e := range items {
		out.Items = append(out.Items, webhookEndpointJSON(e))
	}
	c.JSON(http.StatusOK, out)
}

// CreateWebhookEndpoint registers an endpoint and shows its secret once.
func (s *Server) CreateWebhookEndpoint(c *gin.Context) {
	var in api.WebhookEndpointCreate
	if !s.decodeJSON(c, &in) {
		return
	}
	now := s.now()
	e := webhook.Endpoint{
		ID: uuid.New(), URL: strings.TrimSpace(in.Url), Description: strings.TrimSpace(deref(in.Description)),
		EventTypes: []string{webhook.AllEvents}, Active: true, CreatedAt: now, UpdatedAt: now,
	}
	if in.EventTypes != nil {
		e.EventTypes = *in.EventTypes
	}
	if in.Active != nil {
		e.Active = *in.Active
	}
	if !s.checkEndpoint(c, e) {
		return
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		s.fail(c, err)
		return
	}
	e.Secret = secret
	if err := s.store.CreateWebhookEndpoint(c.Request.Context(), e); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/v1/webhook-endpoints/"+e.ID.String())
	c.JSON(http.StatusCreated, webhookEndpointWithSecretJSON(e))
}

// checkEndpoint validates the fields, then (only when they are well formed)
// the URL's addresses, and answers 422 naming every bad field.
func (s *Server) checkEndpoint(c *gin.Context, e webhook.Endpoint) bool {
	var p booking.Problems
	webhook.CheckFields(&p, e.URL, e.Description, e.EventTypes, true)
	if err := p.Err(); err != nil {
		s.fail(c, err)
		return false
	}
	if err := s.webhooks.CheckURL(c.Request.Context(), e.URL); err != nil {
		s.fail(c, err)
		return false
	}
	return true
}

// GetWebhookEndpoint returns one endpoint, without its secret.
func (s *Server) GetWebhookEndpoint(c *gin.Context, id uuid.UUID) {
	e, err := s.store.WebhookEndpoint(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookEndpointJSON(e))
}

// UpdateWebhookEndpoint changes the fields sent.
func (s *Server) UpdateWebhookEndpoint(c *gin.Context, id uuid.UUID) {
	var in api.WebhookEndpointUpdate
	if !s.decodeJSON(c, &in) {
		return
	}
	if in.Url == nil && in.Description == nil && in.EventTypes == nil && in.Active == nil {
		s.fail(c, booking.InvalidLimit("body", booking.FieldTooFew, 1, "must set at least one of url, description, event_types, active"))
		return
	}
	// The URL is checked before the transaction: the check may wait on DNS.
	if in.Url != nil {
		cur, err := s.store.WebhookEndpoint(c.Request.Context(), id)
		if err != nil {
			s.fail(c, err)
			return
		}
		cur.URL = strings.TrimSpace(*in.Url)
		if in.Description != nil {
			cur.Description = strings.TrimSpace(*in.Description)
		}
		if in.EventTypes != nil {
			cur.EventTypes = *in.EventTypes
		}
		if !s.checkEndpoint(c, cur) {
			return
		}
	}
	now := s.now()
	e, err := s.store.UpdateWebhookEndpoint(c.Request.Context(), id, func(e *webhook.Endpoint) error {
		if in.Url != nil {
			e.URL = strings.TrimSpace(*in.Url)
		}
		if in.Description != nil {
			e.Description = strings.TrimSpace(*in.Description)
		}
		if in.EventTypes != nil {
			e.EventTypes = *in.EventTypes
		}
		if in.Active != nil {
			e.Active = *in.Active
			if e.Active {
				e.DisabledReason = ""
			}
		}
		var p booking.Problems
		webhook.CheckFields(&p, e.URL, e.Description, e.EventTypes, true)
		e.UpdatedAt = now
		return p.Err()
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookEndpointJSON(e))
}

// DeleteWebhookEndpoint deletes an endpoint and its delivery log.
func (s *Server) DeleteWebhookEndpoint(c *gin.Context, id uuid.UUID) {
	if err := s.store.DeleteWebhookEndpoint(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// RotateWebhookSecret replaces the secret and shows the new one once.
func (s *Server) RotateWebhookSecret(c *gin.Context, id uuid.UUID) {
	secret, err := webhook.NewSecret()
	if err != nil {
		s.fail(c, err)
		return
	}
	e, err := s.store.UpdateWebhookEndpoint(c.Request.Context(), id, func(e *webhook.Endpoint) error {
		e.Secret = secret
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookEndpointWithSecretJSON(e))
}

// ListWebhookDeliveries is an endpoint's delivery log, newest first.
func (s *Server) ListWebhookDeliveries(c *gin.Context, id uuid.UUID, params api.ListWebhookDeliveriesParams) {
	items, next, err := s.store.ListWebhookDeliveries(c.Request.Context(), id, deref(params.Cursor), deref(params.Limit))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.WebhookDeliveryList{Items: make([]api.WebhookDelivery, 0, len(items)), NextCursor: nonEmpty(next)}
	for _, d := range items {
		v, err := webhookDeliveryJSON(d)
		if err != nil {
			s.fail(c, err)
			return
		}
		out.Items = append(out.Items, v)
	}
	c.JSON(http.StatusOK, out)
}

// RedeliverWebhook queues a delivery again.
func (s *Server) RedeliverWebhook(c *gin.Context, id uuid.UUID) {
	d, err := s.webhooks.Redeliver(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := webhookDeliveryJSON(d)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, v)
}

func webhookEndpointJSON(e webhook.Endpoint) api.WebhookEndpoint {
	return api.WebhookEndpoint{
		Id: e.ID, Url: e.URL, Description: e.Description, EventTypes: e.EventTypes, Active: e.Active,
		DisabledReason: nonEmpty(e.DisabledReason), CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
	}
}

func webhookEndpointWithSecretJSON(e webhook.Endpoint) api.WebhookEndpointWithSecret {
	v := webhookEndpointJSON(e)
	return api.WebhookEndpointWithSecret{
		Id: v.Id, Url: v.Url, Description: v.Description, EventTypes: v.EventTypes, Active: v.Active,
		DisabledReason: v.DisabledReason, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Secret: e.Secret,
	}
}

func webhookDeliveryJSON(d webhook.Delivery) (api.WebhookDelivery, error) {
	out := api.WebhookDelivery{
		Id: d.ID, EndpointId: d.EndpointID, EventId: d.EventID, EventType: api.FeedEventType(d.EventType),
		Status: api.WebhookDeliveryStatus(d.Status), Attempts: d.Attempts, LastError: nonEmpty(d.LastError),
		LastResponseBody: nonEmpty(d.LastResponseBody), NextAttemptAt: d.NextAttemptAt, LastAttemptAt: d.LastAttemptAt,
		CreatedAt: d.CreatedAt.UTC(),
	}
	if d.LastStatusCode != 0 {
		code := d.LastStatusCode
		out.LastStatusCode = &code
	}
	if err := json.Unmarshal(d.Payload, &out.Payload); err != nil {
		return api.WebhookDelivery{}, fmt.Errorf("webhook delivery %s: payload: %w", d.ID, err)
	}
	return out, nil
}

// WebhookBody renders the body of a webhook: the event's type, when it
// happened, and what the live feed shows of it: the booking (no intake, no
// notes), or for a waitlist step the entry (no patient, no intake). It is
// the store.WebhookRender the sender is given.
func WebhookBody(e store.FeedEvent) ([]byte, error) {
	p := api.WebhookPayload{Type: api.FeedEventType(e.Type), Timestamp: e.OccurredAt.UTC()}
	var err error
	if e.Waitlist != nil {
		err = p.Data.FromWaitlistFeedEntry(waitlistFeedJSON(*e.Waitlist))
	} else {
		err = p.Data.FromBookingSummary(bookingSummaryJSON(e.Booking, e.Slot))
	}
	if err != nil {
		return nil, fmt.Errorf("webhook body: %w", err)
	}
	return json.Marshal(p)
}
