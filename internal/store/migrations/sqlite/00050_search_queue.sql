-- +goose Up
-- The full-text documents are written to FTS once per transaction rather
-- than by each statement (see internal/store/search_queue.go). FTS4 writes
-- a new segment whenever a statement or savepoint begins with documents
-- pending, and merges segments as they pile up: one segment per booking
-- and per patient made the index's pages most of what a booking commits.
-- The triggers now queue each changed document here, under the docid its
-- map table gives it (in creation order, as 00043 made them; NULL doc:
-- remove it from the index), and the store
-- moves the queue into the FTS tables as the last statements of every
-- write transaction, so the index still changes in the transaction that
-- changes the row. A migration that changes search_text must end with the
-- same statements (flushSearchQueue).
CREATE TABLE search_queue (
    id    INTEGER PRIMARY KEY,
    tbl   TEXT NOT NULL CHECK (tbl IN ('b', 'p')), -- booking_search, patient_search
    docid INTEGER NOT NULL,
    doc   TEXT
);

DROP TRIGGER bookings_search_insert;
DROP TRIGGER bookings_search_update;
DROP TRIGGER bookings_search_delete;
DROP TRIGGER patients_search_insert;
DROP TRIGGER patients_search_update;
DROP TRIGGER patients_search_merged;
DROP TRIGGER patients_search_delete;

-- +goose StatementBegin
CREATE TRIGGER bookings_search_insert AFTER INSERT ON bookings BEGIN
    INSERT INTO booking_search_ids (docid, booking_id, created_at)
        SELECT coalesce((SELECT max(docid) + 1 FROM booking_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo),
               new.id, new.created_at
        FROM (SELECT CAST((julianday(new.created_at) - 2440587.5) * 86400000 AS INTEGER) * 1048576 AS lo) k;
    INSERT INTO search_queue (tbl, docid, doc) VALUES ('b', last_insert_rowid(), new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bookings_search_update AFTER UPDATE OF search_text ON bookings
WHEN new.search_text IS NOT old.search_text BEGIN
    INSERT INTO search_queue (tbl, docid, doc)
    SELECT 'b', docid, new.search_text FROM booking_search_ids WHERE booking_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bookings_search_delete AFTER DELETE ON bookings BEGIN
    INSERT INTO search_queue (tbl, docid, doc)
    SELECT 'b', docid, NULL FROM booking_search_ids WHERE booking_id = old.id;
    DELETE FROM booking_search_ids WHERE booking_id = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER patients_search_insert AFTER INSERT ON patients BEGIN
    INSERT INTO patient_search_ids (docid, patient_id, created_at)
        SELECT coalesce((SELECT max(docid) + 1 FROM patient_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo),
               new.id, new.created_at
        FROM (SELECT CAST((julianday(new.created_at) - 2440587.5) * 86400000 AS INTEGER) * 1048576 AS lo) k;
    INSERT INTO search_queue (tbl, docid, doc) VALUES ('p', last_insert_rowid(), new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER patients_search_update AFTER UPDATE OF search_text ON patients
WHEN new.search_text IS NOT old.search_text BEGIN
    INSERT INTO search_queue (tbl, docid, doc)
    SELECT 'p', docid, new.search_text FROM patient_search_ids WHERE patient_id = new.id;
END;
-- +goose StatementEnd
-- A merged-away record is no longer found.
-- +goose StatementBegin
CREATE TRIGGER patients_search_merged AFTER UPDATE OF merged_into ON patients
WHEN new.merged_into IS NOT NULL AND old.merged_into IS NULL BEGIN
    INSERT INTO search_queue (tbl, docid, doc)
    SELECT 'p', docid, NULL FROM patient_search_ids WHERE patient_id = new.id;
    DELETE FROM patient_search_ids WHERE patient_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER patients_search_delete AFTER DELETE ON patients BEGIN
    INSERT INTO search_queue (tbl, docid, doc)
    SELECT 'p', docid, NULL FROM patient_search_ids WHERE patient_id = old.id;
    DELETE FROM patient_search_ids WHERE patient_id = old.id;
END;
-- +goose StatementEnd

-- +goose Down
-- Whatever is still queued reaches the index before the old triggers return.
INSERT OR REPLACE INTO booking_search (docid, doc)
SELECT docid, doc FROM search_queue
WHERE id IN (SELECT MAX(id) FROM search_queue WHERE tbl = 'b' GROUP BY docid) AND doc IS NOT NULL ORDER BY docid;
DELETE FROM booking_search WHERE docid IN (SELECT docid FROM search_queue
WHERE id IN (SELECT MAX(id) FROM search_queue WHERE tbl = 'b' GROUP BY docid) AND doc IS NULL);
INSERT OR REPLACE INTO patient_search (docid, doc)
SELECT docid, doc FROM search_queue
WHERE id IN (SELECT MAX(id) FROM search_queue WHERE tbl = 'p' GROUP BY docid) AND doc IS NOT NULL ORDER BY docid;
DELETE FROM patient_search WHERE docid IN (SELECT docid FROM search_queue
WHERE id IN (SELECT MAX(id) FROM search_queue WHERE tbl = 'p' GROUP BY docid) AND doc IS NULL);
DROP TRIGGER bookings_search_insert;
DROP TRIGGER bookings_search_update;
DROP TRIGGER bookings_search_delete;
DROP TRIGGER patients_search_insert;
DROP TRIGGER patients_search_update;
DROP TRIGGER patients_search_merged;
DROP TRIGGER patients_search_delete;
DROP TABLE search_queue;

-- +goose StatementBegin
CREATE TRIGGER bookings_search_insert AFTER INSERT ON bookings BEGIN
    INSERT INTO booking_search_ids (docid, booking_id, created_at)
        SELECT coalesce((SELECT max(docid) + 1 FROM booking_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo),
               new.id, new.created_at
        FROM (SELECT CAST((julianday(new.created_at) - 2440587.5) * 86400000 AS INTEGER) * 1048576 AS lo) k;
    INSERT INTO booking_search (docid, doc) VALUES (last_insert_rowid(), new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bookings_search_update AFTER UPDATE OF search_text ON bookings
WHEN new.search_text IS NOT old.search_text BEGIN
    UPDATE booking_search SET doc = new.search_text
    WHERE docid = (SELECT docid FROM booking_search_ids WHERE booking_id = new.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bookings_search_delete AFTER DELETE ON bookings BEGIN
    DELETE FROM booking_search WHERE docid = (SELECT docid FROM booking_search_ids WHERE booking_id = old.id);
    DELETE FROM booking_search_ids WHERE booking_id = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER patients_search_insert AFTER INSERT ON patients BEGIN
    INSERT INTO patient_search_ids (docid, patient_id, created_at)
        SELECT coalesce((SELECT max(docid) + 1 FROM patient_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo),
               new.id, new.created_at
        FROM (SELECT CAST((julianday(new.created_at) - 2440587.5) * 86400000 AS INTEGER) * 1048576 AS lo) k;
    INSERT INTO patient_search (docid, doc) VALUES (last_insert_rowid(), new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER patients_search_update AFTER UPDATE OF search_text ON patients
WHEN new.search_text IS NOT old.search_text BEGIN
    UPDATE patient_search SET doc = new.search_text
    WHERE docid = (SELECT docid FROM patient_search_ids WHERE patient_id = new.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER patients_search_merged AFTER UPDATE OF merged_into ON patients
WHEN new.merged_into IS NOT NULL AND old.merged_into IS NULL BEGIN
    DELETE FROM patient_search WHERE docid = (SELECT docid FROM patient_search_ids WHERE patient_id = new.id);
    DELETE FROM patient_search_ids WHERE patient_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER patients_search_delete AFTER DELETE ON patients BEGIN
    DELETE FROM patient_search WHERE docid = (SELECT docid FROM patient_search_ids WHERE patient_id = old.id);
    DELETE FROM patient_search_ids WHERE patient_id = old.id;
END;
-- +goose StatementEnd
