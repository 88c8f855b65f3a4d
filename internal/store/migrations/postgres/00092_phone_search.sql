-- +goose Up
-- Phone digits are searched in the phone itself (see
-- internal/store/search.go): a trigram index on the phone alone, about ten
-- trigrams a number, instead of the search document, where the phone is
-- repeated as every suffix of its digits and digit trigrams fill most of
-- the index (a search for four digits had thousands of candidates to read
-- and recheck).
--
-- fastupdate off: each insert writes its ten entries into the index at
-- once, instead of a pending list that every search reads whole until a
-- vacuum merges it (up to 4 MB of it between two autovacuums of a busy
-- clinic).
CREATE INDEX bookings_phone_trgm ON bookings USING gin (patient_phone public.gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX patients_phone_trgm ON patients USING gin (phone public.gin_trgm_ops) WITH (fastupdate = off);

-- +goose Down
DROP INDEX patients_phone_trgm;
DROP INDEX bookings_phone_trgm;
