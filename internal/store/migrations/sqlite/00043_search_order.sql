-- +goose Up
-- Search matches in the lists' order (see internal/store/search.go): each
-- map row's docid is now its creation time's millisecond (from 1970, as
-- julianday reads the stored text) times 2^20, plus a sequence number
-- among the rows of that millisecond. Docid order is then creation order,
-- up to ties within one millisecond, so a search reads its page from the
-- full-text index newest first, without looking up and sorting every
-- match; the CHECK holds every row to it. The full-text indexes also get
-- prefix indexes up to 8 characters: a name typed whole ("smith*") reads
-- one prefix doclist instead of merging one per word that starts so
-- ("smith", "smith813", ...).
DROP TRIGGER bookings_search_insert;
DROP TRIGGER bookings_search_update;
DROP TRIGGER bookings_search_delete;
CREATE TABLE booking_search_ids_new (
    docid      INTEGER PRIMARY KEY,
    booking_id TEXT NOT NULL UNIQUE,
    created_at DATETIME NOT NULL, -- the booking's (it never changes)
    CHECK (docid >> 20 IS CAST((julianday(created_at) - 2440587.5) * 86400000 AS INTEGER))
);
INSERT INTO booking_search_ids_new (docid, booking_id, created_at)
    SELECT ms * 1048576 + row_number() OVER (PARTITION BY ms ORDER BY created_at, booking_id) - 1, booking_id, created_at
    FROM (SELECT booking_id, created_at, CAST((julianday(created_at) - 2440587.5) * 86400000 AS INTEGER) AS ms
          FROM booking_search_ids);
DROP TABLE booking_search;
DROP TABLE booking_search_ids;
ALTER TABLE booking_search_ids_new RENAME TO booking_search_ids;
CREATE VIRTUAL TABLE booking_search USING fts4(doc, prefix="2,3,4,5,6,7,8", tokenize=unicode61);
INSERT INTO booking_search (docid, doc)
    SELECT m.docid, b.search_text FROM booking_search_ids m JOIN bookings b ON b.id = m.booking_id;
INSERT INTO booking_search (booking_search) VALUES ('optimize');
INSERT INTO booking_search (booking_search) VALUES ('automerge=8');

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

DROP TRIGGER patients_search_insert;
DROP TRIGGER patients_search_update;
DROP TRIGGER patients_search_merged;
DROP TRIGGER patients_search_delete;
CREATE TABLE patient_search_ids_new (
    docid      INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL UNIQUE,
    created_at DATETIME NOT NULL,
    CHECK (docid >> 20 IS CAST((julianday(created_at) - 2440587.5) * 86400000 AS INTEGER))
);
INSERT INTO patient_search_ids_new (docid, patient_id, created_at)
    SELECT ms * 1048576 + row_number() OVER (PARTITION BY ms ORDER BY created_at, patient_id) - 1, patient_id, created_at
    FROM (SELECT patient_id, created_at, CAST((julianday(created_at) - 2440587.5) * 86400000 AS INTEGER) AS ms
          FROM patient_search_ids);
DROP TABLE patient_search;
DROP TABLE patient_search_ids;
ALTER TABLE patient_search_ids_new RENAME TO patient_search_ids;
CREATE VIRTUAL TABLE patient_search USING fts4(doc, prefix="2,3,4,5,6,7,8", tokenize=unicode61);
INSERT INTO patient_search (docid, doc)
    SELECT m.docid, p.search_text FROM patient_search_ids m JOIN patients p ON p.id = m.patient_id;
INSERT INTO patient_search (patient_search) VALUES ('optimize');
INSERT INTO patient_search (patient_search) VALUES ('automerge=8');

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
-- Back to 00042's form: docids in insertion order, prefixes of 2 and 3.
DROP TRIGGER patients_search_delete;
DROP TRIGGER patients_search_merged;
DROP TRIGGER patients_search_update;
DROP TRIGGER patients_search_insert;
DROP TABLE patient_search;
CREATE TABLE patient_search_ids_old (
    docid      INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL UNIQUE,
    created_at DATETIME NOT NULL
);
INSERT INTO patient_search_ids_old (patient_id, created_at) SELECT patient_id, created_at FROM patient_search_ids ORDER BY docid;
DROP TABLE patient_search_ids;
ALTER TABLE patient_search_ids_old RENAME TO patient_search_ids;
CREATE VIRTUAL TABLE patient_search USING fts4(doc, prefix="2,3", tokenize=unicode61);
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

DROP TRIGGER bookings_search_delete;
DROP TRIGGER bookings_search_update;
DROP TRIGGER bookings_search_insert;
DROP TABLE booking_search;
CREATE TABLE booking_search_ids_old (
    docid      INTEGER PRIMARY KEY,
    booking_id TEXT NOT NULL UNIQUE,
    created_at DATETIME NOT NULL
);
INSERT INTO booking_search_ids_old (booking_id, created_at) SELECT booking_id, created_at FROM booking_search_ids ORDER BY docid;
DROP TABLE booking_search_ids;
ALTER TABLE booking_search_ids_old RENAME TO booking_search_ids;
CREATE VIRTUAL TABLE booking_search USING fts4(doc, prefix="2,3", tokenize=unicode61);
INSERT INTO booking_search (docid, doc)
    SELECT m.docid, b.search_text FROM booking_search_ids m JOIN bookings b ON b.id = m.booking_id;
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
