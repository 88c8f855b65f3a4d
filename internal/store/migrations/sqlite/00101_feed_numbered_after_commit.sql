-- +goose Up
-- Nothing on SQLite: its one writer numbers the feed inside the writing
-- transaction, where no other writer waits on the counter (see
-- internal/store/feed.go). The PostgreSQL migration of this number adds the
-- table its writers queue unnumbered feed events in.
SELECT 1;

-- +goose Down
SELECT 1;
