-- +goose Up
-- Hits per rate-limit or login-throttle key in fixed windows, shared by
-- every server instance on this database. Keys are hashes: no address or
-- email is stored. expires_at is when the key's window ends, in Unix
-- milliseconds.
CREATE TABLE rate_counters (
    counter_key TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL,
    hits        INTEGER NOT NULL
);
CREATE INDEX rate_counters_expires_at ON rate_counters (expires_at);

-- +goose Down
DROP TABLE rate_counters;
