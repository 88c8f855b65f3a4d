-- +goose Up
-- The feed is numbered after commit (see internal/store/feed.go): a writing
-- transaction appends its feed events here, unnumbered, and takes no lock
-- another writer waits for; a numbering (one short transaction, under
-- feed_counter's row lock, which only numberings take) moves every
-- committed row into feed_events with the next ids, in seq order. seq comes
-- from a sequence, taken at insert: a change made after another committed
-- (the next change of the same booking, say, which waited for the first's
-- row lock) has a higher seq, whichever instance made it and whatever its
-- clock says, so it is numbered after it too. feed_events, its ids and
-- feed_counter are kept as they are: every id given so far stays.
CREATE TABLE feed_pending (
    seq               BIGSERIAL PRIMARY KEY,
    booking_id        TEXT REFERENCES bookings (id),
    waitlist_entry_id TEXT REFERENCES waitlist_entries (id),
    type              TEXT NOT NULL,
    occurred_at       TIMESTAMPTZ NOT NULL,
    booking           TEXT NOT NULL,
    CONSTRAINT feed_pending_subject CHECK ((booking_id IS NULL) <> (waitlist_entry_id IS NULL))
);

-- +goose Down
-- What is still waiting is numbered first, as a numbering would.
SELECT last_id FROM feed_counter WHERE id = 1 FOR UPDATE;
WITH moved AS (DELETE FROM feed_pending RETURNING *)
INSERT INTO feed_events (id, booking_id, waitlist_entry_id, type, occurred_at, booking)
SELECT (SELECT last_id FROM feed_counter WHERE id = 1) + row_number() OVER (ORDER BY seq),
       booking_id, waitlist_entry_id, type, occurred_at, booking
FROM moved;
UPDATE feed_counter SET last_id = GREATEST(last_id, (SELECT COALESCE(MAX(id), 0) FROM feed_events)) WHERE id = 1;
DROP TABLE feed_pending;
