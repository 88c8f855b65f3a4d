package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/internal/webhook"
)

type webhookEndpointRow struct {
	ID             string    `gorm:"column:id;primaryKey"`
	URL            string    `gorm:"column:url"`
	Description    string    `gorm:"column:description"`
	EventTypes     string    `gorm:"column:event_types"`
	Active         bool      `gorm:"column:active"`
	Secret         string    `gorm:"column:secret"`
	DisabledReason string    `gorm:"column:disabled_reason"`
	CreatedAt      time.Time `gorm:"column:created_at"`
	UpdatedAt      time.Time `gorm:"column:updated_at"`
}

func (webhookEndpointRow) TableName() string { return "webhook_endpoints" }

func endpointToRow(e webhook.Endpoint) (webhookEndpointRow, error) {
	types, err := json.Marshal(e.EventTypes)
	if err != nil {
		return webhookEndpointRow{}, fmt.Errorf("webhook endpoint: %w", err)
	}
	return webhookEndpointRow{
		ID: e.ID.String(), URL: e.URL, Description: e.Description, EventTypes: string(types), Active: e.Active,
		Secret: e.Secret, DisabledReason: e.DisabledReason, CreatedAt: utc(e.CreatedAt), UpdatedAt: utc(e.UpdatedAt),
	}, nil
}

func (r webhookEndpointRow) toDomain() (webhook.Endpoint, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("webhook endpoint row %q: %w", r.ID, err)
	}
	var types []string
	if err := json.Unmarshal([]byte(r.EventTypes), &types); err != nil {
		return webhook.Endpoint{}, fmt.Errorf("webhook endpoint row %q: %w", r.ID, err)
	}
	return webhook.Endpoint{
		ID: id, URL: r.URL, Description: r.Description, EventTypes: types, Active: r.Active, Secret: r.Secret,
		DisabledReason: r.DisabledReason, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

type webhookDeliveryRow struct {
	ID               string     `gorm:"column:id;primaryKey"`
	EndpointID       string     `gorm:"column:endpoint_id"`
	EventID          string     `gorm:"column:event_id"`
	EventType        string     `gorm:"column:event_type"`
	Payload          string     `gorm:"column:payload"`
	Status           string     `gorm:"column:status"`
	Attempts         int        `gorm:"column:attempts"`
	LastStatusCode   *int       `gorm:"column:last_status_code"`
	LastError        string     `gorm:"column:last_error"`
	LastResponseBody string     `gorm:"column:last_response_body"`
	NextAttemptAt    *time.Time `gorm:"column:next_attempt_at"`
	LastAttemptAt    *time.Time `gorm:"column:last_attempt_at"`
	StartedAt        time.Time  `gorm:"column:started_at"`
	CreatedAt        time.Time  `gorm:"column:created_at"`
	UpdatedAt        time.Time  `gorm:"column:updated_at"`
}

func (webhookDeliveryRow) TableName() string { return "webhook_deliveries" }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (r webhookDeliveryRow) toDomain() (webhook.Delivery, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return webhook.Delivery{}, fmt.Errorf("webhook delivery row %q: %w", r.ID, err)
	}
	ep, err := uuid.Parse(r.EndpointID)
	if err != nil {
		return webhook.Delivery{}, fmt.Errorf("webhook delivery row %q: %w", r.ID, err)
	}
	ev, err := uuid.Parse(r.EventID)
	if err != nil {
		return webhook.Delivery{}, fmt.Errorf("webhook delivery row %q: %w", r.ID, err)
	}
	d := webhook.Delivery{
		ID: id, EndpointID: ep, EventID: ev, EventType: r.EventType, Status: webhook.DeliveryStatus(r.Status),
		Attempts: r.Attempts, LastError: r.LastError, LastResponseBody: r.LastResponseBody,
		NextAttemptAt: utcPtr(r.NextAttemptAt), LastAttemptAt: utcPtr(r.LastAttemptAt),
		StartedAt: r.StartedAt.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Payload: []byte(r.Payload),
	}
	if r.LastStatusCode != nil {
		d.LastStatusCode = *r.LastStatusCode
	}
	return d, nil
}

// CreateWebhookEndpoint inserts a new endpoint.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e webhook.Endpoint) error {
	row, err := endpointToRow(e)
	if err != nil {
		return err
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("create webhook endpoint: %w", err)
	}
	return nil
}

// WebhookEndpoint returns one endpoint; booking.ErrNotFound when unknown.
func (s *Store) WebhookEndpoint(ctx context.Context, id uuid.UUID) (webhook.Endpoint, error) {
	return webhookEndpointWhere(s.db.WithContext(ctx), id)
}

func webhookEndpointWhere(db *gorm.DB, id uuid.UUID) (webhook.Endpoint, error) {
	var row webhookEndpointRow
	err := db.Where("id = ?", id.String()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return webhook.Endpoint{}, fmt.Errorf("webhook endpoint: %w", booking.ErrNotFound)
	}
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("webhook endpoint: %w", err)
	}
	return row.toDomain()
}

// ListWebhookEndpoints returns a page of endpoints, oldest first, and the
// cursor of the next page ("" on the last). A cursor that does not parse is
// a *booking.ValidationError naming "cursor".
func (s *Store) ListWebhookEndpoints(ctx context.Context, cur string, limit int) ([]webhook.Endpoint, string, error) {
	rows, next, err := pageByTime(s.db.WithContext(ctx).Model(&webhookEndpointRow{}), listWebhooks, cur, limit, "created_at", false,
		func(r webhookEndpointRow) (time.Time, string) { return r.CreatedAt, r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list webhook endpoints: %w", err)
	}
	out := make([]webhook.Endpoint, 0, len(rows))
	for _, r := range rows {
		e, err := r.toDomain()
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
	}
	return out, next, nil
}

// UpdateWebhookEndpoint reads endpoint id, applies fn and saves the result,
// in one transaction. It returns booking.ErrNotFound for an unknown id and
// fn's errors.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id uuid.UUID, fn func(*webhook.Endpoint) error) (webhook.Endpoint, error) {
	var out webhook.Endpoint
	err := s.tx(ctx, func(tx *gorm.DB) error {
		e, err := webhookEndpointWhere(tx, id)
		if err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
		e.UpdatedAt = s.now()
		row, err := endpointToRow(e)
		if err != nil {
			return err
		}
		if err := tx.Save(&row).Error; err != nil {
			return fmt.Errorf("save webhook endpoint: %w", err)
		}
		out, err = row.toDomain()
		return err
	})
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("update webhook endpoint: %w", err)
	}
	return out, nil
}

// DeleteWebhookEndpoint deletes an endpoint and its delivery log; queued
// attempts find nothing to send. booking.ErrNotFound for an unknown id.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id uuid.UUID) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("endpoint_id = ?", id.String()).Delete(&webhookDeliveryRow{}).Error; err != nil {
			return err
		}
		res := tx.Where("id = ?", id.String()).Delete(&webhookEndpointRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return booking.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete webhook endpoint: %w", err)
	}
	return nil
}

// ListWebhookDeliveries returns a page of an endpoint's deliveries, newest
// first, and the next page's cursor. booking.ErrNotFound for an unknown
// endpoint.
func (s *Store) ListWebhookDeliveries(ctx context.Context, endpointID uuid.UUID, cur string, limit int) ([]webhook.Delivery, string, error) {
	db := s.db.WithContext(ctx)
	if _, err := webhookEndpointWhere(db, endpointID); err != nil {
		return nil, "", err
	}
	rows, next, err := pageByTime(db.Model(&webhookDeliveryRow{}).Where("endpoint_id = ?", endpointID.String()), listWebhookSends, cur, limit, "created_at", true,
		func(r webhookDeliveryRow) (time.Time, string) { return r.CreatedAt, r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
	}
	out := make([]webhook.Delivery, 0, len(rows))
	for _, r := range rows {
		d, err := r.toDomain()
		if err != nil {
			return nil, "", err
		}
		out = append(out, d)
	}
	return out, next, nil
}

// WebhookDelivery returns one delivery; booking.ErrNotFound when unknown.
func (s *Store) WebhookDelivery(ctx context.Context, id uuid.UUID) (webhook.Delivery, error) {
	d, _, err := webhookDeliveryWhere(s.db.WithContext(ctx), id)
	return d, err
}

func webhookDeliveryWhere(db *gorm.DB, id uuid.UUID) (webhook.Delivery, []byte, error) {
	var row webhookDeliveryRow
	err := db.Where("id = ?", id.String()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return webhook.Delivery{}, nil, fmt.Errorf("webhook delivery: %w", booking.ErrNotFound)
	}
	if err != nil {
		return webhook.Delivery{}, nil, fmt.Errorf("webhook delivery: %w", err)
	}
	d, err := row.toDomain()
	return d, []byte(row.Payload), err
}

// WebhookRender turns a feed event (a booking's change or a waitlist
// step) into the body of its webhooks.
type WebhookRender func(e FeedEvent) ([]byte, error)

// QueueWebhookDeliveries writes, in tx (the transaction in which a feed
// reader passes events; see FollowFeed), one pending delivery for each of
// the feed events and each active endpoint that wants its type, with the
// body render makes, and returns them for the caller to schedule.
func (s *Store) QueueWebhookDeliveries(ctx context.Context, sqlTx *sql.Tx, events []FeedEvent, render WebhookRender) ([]webhook.Delivery, error) {
	if len(events) == 0 {
		return nil, nil
	}
	tx := s.wdb.WithContext(ctx)
	tx.Statement.ConnPool = sqlTx
	var rows []webhookEndpointRow
	if err := tx.Where("active = ?", true).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("queue webhooks: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	endpoints := make([]webhook.Endpoint, 0, len(rows))
	for _, r := range rows {
		e, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		endpoints = append(endpoints, e)
	}
	now := utc(s.now())
	var out []webhook.Delivery
	for _, e := range events {
		var body []byte
		for _, ep := range endpoints {
			if !ep.Wants(e.Type) {
				continue
			}
			if body == nil {
				var err error
				if body, err = render(e); err != nil {
					return nil, fmt.Errorf("queue webhooks: render: %w", err)
				}
			}
			// Every event a relay reaches records its booking event's id:
			// relays start after the events written before it was recorded
			// (migration 00025, FollowFeed).
			row := webhookDeliveryRow{
				ID: uuid.NewString(), EndpointID: ep.ID.String(), EventID: e.EventID.String(), EventType: e.Type,
				Payload: string(body), Status: string(webhook.DeliveryPending), NextAttemptAt: &now,
				StartedAt: now, CreatedAt: now, UpdatedAt: now,
			}
			if err := tx.Create(&row).Error; err != nil {
				return nil, fmt.Errorf("queue webhooks: %w", err)
			}
			d, err := row.toDomain()
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// WebhookAttempt is what one delivery attempt needs.
type WebhookAttempt struct {
	Delivery webhook.Delivery
	Endpoint webhook.Endpoint
	Body     []byte
}

// WebhookAttemptFor returns delivery id with its endpoint and body;
// booking.ErrNotFound when either is gone.
func (s *Store) WebhookAttemptFor(ctx context.Context, id uuid.UUID) (WebhookAttempt, error) {
	db := s.db.WithContext(ctx)
	d, body, err := webhookDeliveryWhere(db, id)
	if err != nil {
		return WebhookAttempt{}, err
	}
	ep, err := webhookEndpointWhere(db, d.EndpointID)
	if err != nil {
		return WebhookAttempt{}, err
	}
	return WebhookAttempt{Delivery: d, Endpoint: ep, Body: body}, nil
}

// WebhookOutcome is what an attempt leaves on its delivery.
type WebhookOutcome struct {
	At     time.Time
	Result webhook.Result
	Status webhook.DeliveryStatus // pending when another attempt follows
	Next   *time.Time             // when it does
	// Disable turns the endpoint off with this reason (a 410 Gone).
	Disable string
}

// RecordWebhookAttempt records an attempt's outcome on delivery id (and,
// with o.Disable, turns its endpoint off), in one transaction.
func (s *Store) RecordWebhookAttempt(ctx context.Context, id uuid.UUID, o WebhookOutcome) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var code *int
		if o.Result.StatusCode != 0 {
			c := o.Result.StatusCode
			code = &c
		}
		at := utc(o.At)
		var next *time.Time
		if o.Next != nil {
			n := utc(*o.Next)
			next = &n
		}
		res := tx.Model(&webhookDeliveryRow{}).Where("id = ?", id.String()).Updates(map[string]any{
			"attempts": gorm.Expr("attempts + 1"), "status": string(o.Status), "last_status_code": code,
			"last_error": o.Result.Err, "last_response_body": o.Result.Body, "next_attempt_at": next,
			"last_attempt_at": at, "updated_at": at,
		})
		if res.Error != nil {
			return res.Error
		}
		if o.Disable == "" {
			return nil
		}
		return tx.Model(&webhookEndpointRow{}).
			Where("id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = ?)", id.String()).
			Updates(map[string]any{"active": false, "disabled_reason": o.Disable, "updated_at": at}).Error
	})
	if err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	return nil
}

// RedeliverWebhook makes delivery id pending again, due now, with a fresh
// attempt count and give-up period (the same id and body: receivers see a
// repeat they can recognise), and calls schedule in the same transaction to
// queue it. booking.ErrNotFound for an unknown id.
func (s *Store) RedeliverWebhook(ctx context.Context, id uuid.UUID, schedule func(ctx context.Context, tx *sql.Tx, d webhook.Delivery) error) (webhook.Delivery, error) {
	var out webhook.Delivery
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, _, err := webhookDeliveryWhere(tx, id); err != nil {
			return err
		}
		now := utc(s.now())
		err := tx.Model(&webhookDeliveryRow{}).Where("id = ?", id.String()).Updates(map[string]any{
			"status": string(webhook.DeliveryPending), "attempts": 0, "next_attempt_at": now,
			"started_at": now, "updated_at": now,
		}).Error
		if err != nil {
			return err
		}
		if out, _, err = webhookDeliveryWhere(tx, id); err != nil {
			return err
		}
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return errors.New("not in a database transaction")
		}
		return schedule(ctx, sqlTx, out)
	})
	if err != nil {
		return webhook.Delivery{}, fmt.Errorf("redeliver webhook: %w", err)
	}
	return out, nil
}
