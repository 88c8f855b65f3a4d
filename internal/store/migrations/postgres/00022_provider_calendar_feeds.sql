-- +goose Up
-- A provider's calendar feed: the token is the credential of a URL with no
-- login, so only its SHA-256 is kept. One per provider; a new one replaces it.
CREATE TABLE provider_calendar_feeds (
    provider_id TEXT PRIMARY KEY REFERENCES providers (id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE provider_calendar_feeds;
