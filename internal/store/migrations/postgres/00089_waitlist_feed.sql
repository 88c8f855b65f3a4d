-- +goose Up
-- The waitlist's steps (offered, accepted, lapsed) join the live feed: a
-- feed event is a booking's change (booking_id) or a waitlist entry's step
-- (waitlist_entry_id), exactly one of the two. The booking column keeps the
-- JSON snapshot of either, without intake answers.
ALTER TABLE feed_events ALTER COLUMN booking_id DROP NOT NULL;
ALTER TABLE feed_events ADD COLUMN waitlist_entry_id TEXT REFERENCES waitlist_entries (id);
ALTER TABLE feed_events ADD CONSTRAINT feed_events_subject
    CHECK ((booking_id IS NULL) <> (waitlist_entry_id IS NULL));

-- The waitlist metrics count the history's steps by type.
CREATE INDEX waitlist_events_type ON waitlist_events (type);

-- +goose Down
DROP INDEX waitlist_events_type;
DELETE FROM feed_events WHERE waitlist_entry_id IS NOT NULL;
ALTER TABLE feed_events DROP CONSTRAINT feed_events_subject;
ALTER TABLE feed_events DROP COLUMN waitlist_entry_id;
ALTER TABLE feed_events ALTER COLUMN booking_id SET NOT NULL;
