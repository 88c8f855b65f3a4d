-- +goose Up
-- Nothing on PostgreSQL: the SQLite migration of this number puts a
-- booking and the patient record made with it in one full-text document;
-- PostgreSQL searches search_text through its trigram indexes, which it
-- keeps per table.
SELECT 1;

-- +goose Down
SELECT 1;
