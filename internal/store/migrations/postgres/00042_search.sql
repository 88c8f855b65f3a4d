-- +goose Up
-- Index-backed search (see internal/store/search.go): trigram GIN indexes
-- serve the LIKE '%term%' conditions on each row's search_text, and change
-- with the row. The extension lives in public, once per database; the
-- transaction-scoped lock keeps two schemas migrating at once from creating
-- it twice.
SELECT pg_advisory_xact_lock(7340042);
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX bookings_search_trgm ON bookings USING gin (search_text public.gin_trgm_ops);
CREATE INDEX patients_search_trgm ON patients USING gin (search_text public.gin_trgm_ops);

-- +goose Down
DROP INDEX patients_search_trgm;
DROP INDEX bookings_search_trgm;
