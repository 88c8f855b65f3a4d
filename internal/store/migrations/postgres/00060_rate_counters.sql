-- +goose Up
-- Hits per rate-limit or login-throttle key in fixed windows, shared by
-- every server instance on this database. Keys are hashes: no address or
-- email is stored. expires_at is when the key's window ends, in Unix
-- milliseconds.
-- UNLOGGED: no write-ahead log, so a hit does not wait for a disk flush (a
-- logged upsert costs a commit's fsync, about a hundred round trips here).
-- After a crash the table starts empty, which only forgives the failures of
-- the last minute; it is not copied to standbys, which need no counts.
CREATE UNLOGGED TABLE rate_counters (
    counter_key TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL,
    hits        INTEGER NOT NULL
);
CREATE INDEX rate_counters_expires_at ON rate_counters (expires_at);

-- +goose Down
DROP TABLE rate_counters;
