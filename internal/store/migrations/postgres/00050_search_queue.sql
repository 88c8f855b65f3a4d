-- +goose Up
-- SQLite's full-text documents are queued and written once per transaction
-- from this version on. PostgreSQL's search index lives in each row's own
-- GIN index (00042) and needs no queue: nothing to do here.
SELECT 1;

-- +goose Down
SELECT 1;
