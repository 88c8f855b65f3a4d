-- +goose Up
-- Nothing on SQLite: a search reads its matches newest first from the
-- full-text index. The PostgreSQL migration of this number gives the
-- newest-first walk of a one-word search a search document without the
-- phone's digits.
SELECT 1;

-- +goose Down
SELECT 1;
