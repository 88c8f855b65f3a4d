-- +goose Up
-- SQLite's booking writer now writes the search docid and document of a
-- new booking (and of the patient record made with it) itself, and the
-- insert triggers step aside for it (sqlite/00105). PostgreSQL's search
-- index lives in each row's own GIN index (00042): nothing to do here.
SELECT 1;

-- +goose Down
SELECT 1;
