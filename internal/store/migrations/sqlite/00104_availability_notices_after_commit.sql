-- +goose Up
-- Nothing on SQLite: its writers log availability changes in
-- availability_changes (00070), which the other processes poll, and send
-- no notification. The PostgreSQL migration of this number moves the
-- notifications of its writers out of their transactions.
SELECT 1;

-- +goose Down
SELECT 1;
