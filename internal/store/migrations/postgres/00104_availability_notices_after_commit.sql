-- +goose Up
-- Availability changes are announced after commit (see
-- internal/store/availability_notice.go). A NOTIFY takes a lock of the
-- whole database from just before its transaction commits until the commit
-- is durable, so writers that each notified committed one at a time. Now a
-- writing transaction only queues the scopes it changed here, unsent; a
-- short transaction after its commit (the one that numbers the feed: one
-- NOTIFY lock for both) deletes what is queued and announces it on
-- clinic_availability, with the same payload as before ("schema scope").
-- What a crash leaves queued between a commit and its announcement is sent
-- by the next store to open the database or by a listening instance's poll,
-- as is what other writers (maintenance scripts) queue: nothing is lost.
-- seq lets the writing instance tell its own rows from others' (it reads
-- them from the transaction-local setting clinic.availability_pending).
CREATE TABLE availability_pending (
    seq   BIGSERIAL PRIMARY KEY,
    scope TEXT NOT NULL
);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION availability_changed(schema_name TEXT, scope TEXT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    seen TEXT := ' ' || coalesce(current_setting('clinic.availability_scopes', true), '');
    queued BIGINT;
BEGIN
    IF position(' * ' IN seen) > 0 OR position(' ' || scope || ' ' IN seen) > 0 THEN
        RETURN;
    END IF;
    IF length(seen) > 4000 THEN
        -- Enough to list (a generated schedule, say): everything, once.
        scope := '*';
    END IF;
    PERFORM set_config('clinic.availability_scopes', ltrim(seen) || scope || ' ', true);
    INSERT INTO availability_pending (scope) VALUES (scope) RETURNING seq INTO queued;
    PERFORM set_config('clinic.availability_pending',
        coalesce(current_setting('clinic.availability_pending', true), '') || queued || ' ', true);
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION availability_changed(schema_name TEXT, scope TEXT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    seen TEXT := ' ' || coalesce(current_setting('clinic.availability_scopes', true), '');
BEGIN
    IF position(' * ' IN seen) > 0 OR position(' ' || scope || ' ' IN seen) > 0 THEN
        RETURN;
    END IF;
    IF length(seen) > 4000 THEN
        -- Enough to list (a generated schedule, say): everything, once.
        scope := '*';
    END IF;
    PERFORM set_config('clinic.availability_scopes', ltrim(seen) || scope || ' ', true);
    PERFORM pg_notify('clinic_availability', schema_name || ' ' || scope);
END $$;
-- +goose StatementEnd
-- What is still queued is announced, as the step after a commit would.
-- The lock first waits for every writer that is queueing now (its row is
-- then committed and read here, or rolled back) and keeps new ones out
-- until the table is gone, so no committed change is dropped unannounced.
LOCK TABLE availability_pending IN ACCESS EXCLUSIVE MODE;
SELECT pg_notify('clinic_availability', current_schema() || ' ' || scope)
FROM (SELECT DISTINCT scope FROM availability_pending) queued;
DROP TABLE availability_pending;
