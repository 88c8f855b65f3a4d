-- +goose Up
-- A search for one word (a name) first tests the newest rows in the order
-- of the lists' indexes (see internal/store/search.go): those indexes now
-- hold search_text (and, for patients, merged_into) so the walk reads the
-- index only. The same keys, so every other use of them is unchanged.
DROP INDEX bookings_created;
CREATE INDEX bookings_created ON bookings (created_at DESC, id DESC) INCLUDE (search_text);
DROP INDEX patients_created;
CREATE INDEX patients_created ON patients (created_at DESC, id DESC) INCLUDE (search_text, merged_into);

-- +goose Down
DROP INDEX patients_created;
CREATE INDEX patients_created ON patients (created_at DESC, id DESC);
DROP INDEX bookings_created;
CREATE INDEX bookings_created ON bookings (created_at DESC, id DESC);
