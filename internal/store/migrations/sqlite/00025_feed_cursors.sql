-- +goose Up
-- Where each reader that acts on the live feed has got to (the relays of
-- patient messages and of webhooks write what each booking change causes
-- from its feed event). A cursor moves in the same transaction as what its reader wrote
-- for the events it passed, so each event is acted on exactly once.
CREATE TABLE feed_cursors (
    name    TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL
);
-- Until now both were written in the change's own transaction: the relays
-- start after every change made so far.
INSERT INTO feed_cursors (name, last_id) SELECT 'patient_messages', COALESCE(MAX(id), 0) FROM feed_events;
INSERT INTO feed_cursors (name, last_id) SELECT 'webhooks', COALESCE(MAX(id), 0) FROM feed_events;

-- +goose Down
DROP TABLE feed_cursors;
