-- +goose Up
-- The waitlist's steps (offered, accepted, lapsed) join the live feed: a
-- feed event is a booking's change (booking_id) or a waitlist entry's step
-- (waitlist_entry_id), exactly one of the two. The booking column keeps the
-- JSON snapshot of either, without intake answers. SQLite cannot drop a
-- NOT NULL: the table is copied into its new shape (nothing refers to it).
CREATE TABLE feed_events_new (
    id                INTEGER PRIMARY KEY,
    booking_id        TEXT REFERENCES bookings (id),
    waitlist_entry_id TEXT REFERENCES waitlist_entries (id),
    type              TEXT NOT NULL,
    occurred_at       DATETIME NOT NULL,
    booking           TEXT NOT NULL,
    CHECK ((booking_id IS NULL) <> (waitlist_entry_id IS NULL))
);
INSERT INTO feed_events_new (id, booking_id, type, occurred_at, booking)
    SELECT id, booking_id, type, occurred_at, booking FROM feed_events;
DROP TABLE feed_events;
ALTER TABLE feed_events_new RENAME TO feed_events;

-- The waitlist metrics count the history's steps by type.
CREATE INDEX waitlist_events_type ON waitlist_events (type);

-- +goose Down
DROP INDEX waitlist_events_type;
CREATE TABLE feed_events_old (
    id          INTEGER PRIMARY KEY,
    booking_id  TEXT NOT NULL REFERENCES bookings (id),
    type        TEXT NOT NULL,
    occurred_at DATETIME NOT NULL,
    booking     TEXT NOT NULL
);
INSERT INTO feed_events_old (id, booking_id, type, occurred_at, booking)
    SELECT id, booking_id, type, occurred_at, booking FROM feed_events WHERE booking_id IS NOT NULL;
DROP TABLE feed_events;
ALTER TABLE feed_events_old RENAME TO feed_events;
