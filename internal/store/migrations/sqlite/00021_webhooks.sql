-- +goose Up
-- Webhook endpoints. secret is kept as given: the server needs it to sign.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    event_types     TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    secret          TEXT NOT NULL,
    disabled_reason TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX webhook_endpoints_created ON webhook_endpoints (created_at, id);

-- One event to one endpoint; the job queue schedules its attempts, this row
-- keeps what admins see. payload is the exact body sent on every attempt.
CREATE TABLE webhook_deliveries (
    id                 TEXT PRIMARY KEY,
    endpoint_id        TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id           TEXT NOT NULL,
    event_type         TEXT NOT NULL,
    payload            TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    last_status_code   INTEGER,
    last_error         TEXT NOT NULL DEFAULT '',
    last_response_body TEXT NOT NULL DEFAULT '',
    next_attempt_at    DATETIME,
    last_attempt_at    DATETIME,
    started_at         DATETIME NOT NULL,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
