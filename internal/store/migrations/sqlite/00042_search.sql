-- +goose Up
-- Index-backed search (see internal/store/search.go): FTS4 tables fed from
-- each row's search_text by triggers, so the index changes in the
-- transaction that changes the row. The map tables give each row an
-- INTEGER docid, which VACUUM keeps (the implicit rowid of a table with a
-- TEXT key it may renumber).
CREATE TABLE booking_search_ids (
    docid      INTEGER PRIMARY KEY,
    booking_id TEXT NOT NULL UNIQUE,
    created_at DATETIME NOT NULL -- the booking's (it never changes): a search sorts its matches here
);
CREATE VIRTUAL TABLE booking_search USING fts4(doc, prefix="2,3", tokenize=unicode61);
INSERT INTO booking_search_ids (booking_id, created_at) SELECT id, created_at FROM bookings ORDER BY created_at, id;
INSERT INTO booking_search (docid, doc)
    SELECT m.docid, b.search_text FROM booking_search_ids m JOIN bookings b ON b.id = m.booking_id;
-- One merged index to start from, and merges as rows come one at a time, so
-- a search reads few segments.
INSERT INTO booking_search (booking_search) VALUES ('optimize');
INSERT INTO booking_search (booking_search) VALUES ('automerge=8');

-- +goose StatementBegin
CREATE TRIGGER bookings_search_insert AFTER INSERT ON bookings BEGIN
    INSERT INTO booking_search_ids (booking_id, created_at) VALUES (new.id, new.created_at);
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

CREATE TABLE patient_search_ids (
    docid      INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL UNIQUE,
    created_at DATETIME NOT NULL
);
CREATE VIRTUAL TABLE patient_search USING fts4(doc, prefix="2,3", tokenize=unicode61);
INSERT INTO patient_search_ids (patient_id, created_at) SELECT id, created_at FROM patients ORDER BY created_at, id;
INSERT INTO patient_search (docid, doc)
    SELECT m.docid, p.search_text FROM patient_search_ids m JOIN patients p ON p.id = m.patient_id;
INSERT INTO patient_search (patient_search) VALUES ('optimize');
INSERT INTO patient_search (patient_search) VALUES ('automerge=8');

-- +goose StatementBegin
CREATE TRIGGER patients_search_insert AFTER INSERT ON patients BEGIN
    INSERT INTO patient_search_ids (patient_id, created_at) VALUES (new.id, new.created_at);
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
-- A merged-away record is no longer found.
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

-- +goose Down
DROP TRIGGER patients_search_delete;
DROP TRIGGER patients_search_merged;
DROP TRIGGER patients_search_update;
DROP TRIGGER patients_search_insert;
DROP TABLE patient_search;
DROP TABLE patient_search_ids;
DROP TRIGGER bookings_search_delete;
DROP TRIGGER bookings_search_update;
DROP TRIGGER bookings_search_insert;
DROP TABLE booking_search;
DROP TABLE booking_search_ids;
