-- +goose Up
-- Nothing on SQLite: phone digits are searched through the full-text index,
-- where each suffix of a phone's digits is a token (see
-- internal/store/search.go). The PostgreSQL migration of this number indexes
-- the phone itself.
SELECT 1;

-- +goose Down
SELECT 1;
