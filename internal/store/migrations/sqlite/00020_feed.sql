-- +goose Up
-- The live staff feed: one row per booking change, numbered by feed_counter.
-- Every writer takes the next number by updating the counter's one row, which
-- it then holds locked until it commits; so numbers commit in the order they
-- are taken, and a reader that has seen number n can never later find a
-- smaller one appear.
CREATE TABLE feed_counter (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    last_id BIGINT NOT NULL
);
INSERT INTO feed_counter (id, last_id) VALUES (1, 0);

-- booking is a JSON snapshot of the booking and its slot as they were after
-- the change, without intake answers.
CREATE TABLE feed_events (
    id          INTEGER PRIMARY KEY,
    booking_id  TEXT NOT NULL REFERENCES bookings (id),
    type        TEXT NOT NULL,
    occurred_at DATETIME NOT NULL,
    booking     TEXT NOT NULL
);

-- +goose Down
DROP TABLE feed_events;
DROP TABLE feed_counter;
