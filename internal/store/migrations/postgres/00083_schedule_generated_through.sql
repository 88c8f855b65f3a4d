-- +goose Up
-- The last day (YYYY-MM-DD, in the location's time zone) through which the
-- rolling generation has made a schedule's slots; null until it first runs.
-- Each run takes the schedule's row lock, reads it, makes only the days
-- after it and moves it on in the same transaction, so that two instances
-- (or a run and a schedule's creation) never generate one day twice.
ALTER TABLE schedules ADD COLUMN generated_through TEXT;

-- +goose Down
ALTER TABLE schedules DROP COLUMN generated_through;
