-- +goose Up
-- One full-text index for bookings and patient records, and one document
-- for a booking and the patient record made with it (see
-- internal/store/search.go). Every new patient's first booking wrote two
-- documents of nearly the same words (names, email, every suffix of the
-- phone's digits), one into each index, and tokenising and indexing them
-- (with the seven prefix indexes) was about a third of the booking
-- writer's time. Now booking_search has two columns: doc, which patient
-- searches match (the record's search_text), and ref, which only booking
-- searches also match (the reference, in the two forms the booking's
-- search_text holds it). A booking whose patient record was made in the
-- same transaction, with the same words, has the record's docid: the map
-- tables keep their rows, and a docid may be in both. When one of the two
-- changes its words (or goes), it moves to a docid of its own and the
-- other keeps the document, rewritten as its own; until then the document
-- is exactly the booking's search_text split in two, and exactly the
-- record's in doc.
--
-- Docids stay creation order (00043): a new docid is one more than the
-- greatest of its millisecond in either map table, so a booking and a
-- record never get the same one by chance. Records that have one now are
-- renumbered after the bookings of their millisecond; the Go migration 98
-- then joins the pairs that can share (shareSearchDocs).
--
-- The queue (00050) now holds the document's two columns; it is empty
-- between transactions, and the index is rebuilt here from the rows.
DROP TRIGGER bookings_search_insert;
DROP TRIGGER bookings_search_update;
DROP TRIGGER bookings_search_delete;
DROP TRIGGER patients_search_insert;
DROP TRIGGER patients_search_update;
DROP TRIGGER patients_search_merged;
DROP TRIGGER patients_search_delete;
DROP TABLE search_queue;
CREATE TABLE search_queue (
    id    INTEGER PRIMARY KEY,
    docid INTEGER NOT NULL,
    doc   TEXT, -- NULL: remove the document
    ref   TEXT
);

CREATE TABLE patient_search_ids_new (
    docid      INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL UNIQUE,
    created_at DATETIME NOT NULL,
    CHECK (docid >> 20 IS CAST((julianday(created_at) - 2440587.5) * 86400000 AS INTEGER))
);
INSERT INTO patient_search_ids_new (docid, patient_id, created_at)
    SELECT lo + coalesce((SELECT max(docid) + 1 - lo FROM booking_search_ids WHERE docid >= lo AND docid < lo + 1048576), 0)
              + row_number() OVER (PARTITION BY lo ORDER BY created_at, patient_id) - 1,
           patient_id, created_at
    FROM (SELECT patient_id, created_at, (docid >> 20) << 20 AS lo FROM patient_search_ids);
DROP TABLE patient_search_ids;
ALTER TABLE patient_search_ids_new RENAME TO patient_search_ids;

DROP TABLE booking_search;
DROP TABLE patient_search;
CREATE VIRTUAL TABLE booking_search USING fts4(doc, ref, prefix="2,3,4,5,6,7,8", tokenize=unicode61);
INSERT INTO booking_search (docid, doc)
    SELECT docid, doc FROM (
        SELECT m.docid, b.search_text AS doc FROM booking_search_ids m JOIN bookings b ON b.id = m.booking_id
        UNION ALL
        SELECT m.docid, p.search_text FROM patient_search_ids m JOIN patients p ON p.id = m.patient_id)
    ORDER BY docid;
INSERT INTO booking_search (booking_search) VALUES ('optimize');
INSERT INTO booking_search (booking_search) VALUES ('automerge=8');

-- A new booking takes the document of its patient record when the record
-- was made in its millisecond with the booking's words (the record's
-- search_text is the booking's without the reference) and no booking has
-- it yet; otherwise a docid of its own.
-- +goose StatementBegin
CREATE TRIGGER bookings_search_insert AFTER INSERT ON bookings BEGIN
    INSERT INTO booking_search_ids (docid, booking_id, created_at)
        SELECT coalesce(
                   (SELECT m.docid FROM patient_search_ids m JOIN patients p ON p.id = m.patient_id
                    WHERE m.patient_id = new.patient_id AND m.docid >= k.lo AND m.docid < k.lo + 1048576
                      AND p.search_text = replace(new.search_text, ' ' || lower(new.reference) || ' ' || lower(replace(new.reference, '-', '')), '')
                      AND NOT EXISTS (SELECT 1 FROM booking_search_ids x WHERE x.docid = m.docid)),
                   max(coalesce((SELECT max(docid) + 1 FROM booking_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo),
                       coalesce((SELECT max(docid) + 1 FROM patient_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo))),
               new.id, new.created_at
        FROM (SELECT CAST((julianday(new.created_at) - 2440587.5) * 86400000 AS INTEGER) * 1048576 AS lo) k;
    INSERT INTO search_queue (docid, doc, ref)
        SELECT b.docid, coalesce(p.search_text, new.search_text),
               CASE WHEN p.id IS NOT NULL THEN lower(new.reference) || ' ' || lower(replace(new.reference, '-', '')) END
        FROM booking_search_ids b LEFT JOIN patient_search_ids m ON m.docid = b.docid LEFT JOIN patients p ON p.id = m.patient_id
        WHERE b.booking_id = new.id;
END;
-- +goose StatementEnd
-- A booking whose words change leaves a shared document to its record
-- (without the reference) for one of its own.
-- +goose StatementBegin
CREATE TRIGGER bookings_search_update AFTER UPDATE OF search_text ON bookings
WHEN new.search_text IS NOT old.search_text BEGIN
    INSERT INTO search_queue (docid, doc, ref)
        SELECT b.docid, p.search_text, NULL
        FROM booking_search_ids b JOIN patient_search_ids m ON m.docid = b.docid JOIN patients p ON p.id = m.patient_id
        WHERE b.booking_id = new.id;
    UPDATE booking_search_ids
    SET docid = max(coalesce((SELECT max(x.docid) FROM booking_search_ids x
                              WHERE x.docid >= (booking_search_ids.docid >> 20) << 20 AND x.docid < ((booking_search_ids.docid >> 20) + 1) << 20), 0),
                    coalesce((SELECT max(x.docid) FROM patient_search_ids x
                              WHERE x.docid >= (booking_search_ids.docid >> 20) << 20 AND x.docid < ((booking_search_ids.docid >> 20) + 1) << 20), 0)) + 1
    WHERE booking_id = new.id AND EXISTS (SELECT 1 FROM patient_search_ids x WHERE x.docid = booking_search_ids.docid);
    INSERT INTO search_queue (docid, doc, ref)
        SELECT docid, new.search_text, NULL FROM booking_search_ids WHERE booking_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER bookings_search_delete AFTER DELETE ON bookings BEGIN
    INSERT INTO search_queue (docid, doc, ref)
        SELECT b.docid, p.search_text, NULL
        FROM booking_search_ids b LEFT JOIN patient_search_ids m ON m.docid = b.docid LEFT JOIN patients p ON p.id = m.patient_id
        WHERE b.booking_id = old.id;
    DELETE FROM booking_search_ids WHERE booking_id = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER patients_search_insert AFTER INSERT ON patients BEGIN
    INSERT INTO patient_search_ids (docid, patient_id, created_at)
        SELECT max(coalesce((SELECT max(docid) + 1 FROM booking_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo),
                   coalesce((SELECT max(docid) + 1 FROM patient_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo)),
               new.id, new.created_at
        FROM (SELECT CAST((julianday(new.created_at) - 2440587.5) * 86400000 AS INTEGER) * 1048576 AS lo) k;
    INSERT INTO search_queue (docid, doc, ref)
        SELECT docid, new.search_text, NULL FROM patient_search_ids WHERE patient_id = new.id;
END;
-- +goose StatementEnd
-- A record whose words change leaves a shared document to its booking
-- (as the booking's whole search_text) for one of its own.
-- +goose StatementBegin
CREATE TRIGGER patients_search_update AFTER UPDATE OF search_text ON patients
WHEN new.search_text IS NOT old.search_text BEGIN
    INSERT INTO search_queue (docid, doc, ref)
        SELECT m.docid, b.search_text, NULL
        FROM patient_search_ids m JOIN booking_search_ids x ON x.docid = m.docid JOIN bookings b ON b.id = x.booking_id
        WHERE m.patient_id = new.id;
    UPDATE patient_search_ids
    SET docid = max(coalesce((SELECT max(x.docid) FROM booking_search_ids x
                              WHERE x.docid >= (patient_search_ids.docid >> 20) << 20 AND x.docid < ((patient_search_ids.docid >> 20) + 1) << 20), 0),
                    coalesce((SELECT max(x.docid) FROM patient_search_ids x
                              WHERE x.docid >= (patient_search_ids.docid >> 20) << 20 AND x.docid < ((patient_search_ids.docid >> 20) + 1) << 20), 0)) + 1
    WHERE patient_id = new.id AND EXISTS (SELECT 1 FROM booking_search_ids x WHERE x.docid = patient_search_ids.docid);
    INSERT INTO search_queue (docid, doc, ref)
        SELECT docid, new.search_text, NULL FROM patient_search_ids WHERE patient_id = new.id;
END;
-- +goose StatementEnd
-- A merged-away (or deleted) record is no longer found; a document it
-- shared stays its booking's.
-- +goose StatementBegin
CREATE TRIGGER patients_search_merged AFTER UPDATE OF merged_into ON patients
WHEN new.merged_into IS NOT NULL AND old.merged_into IS NULL BEGIN
    INSERT INTO search_queue (docid, doc, ref)
        SELECT m.docid, b.search_text, NULL
        FROM patient_search_ids m LEFT JOIN booking_search_ids x ON x.docid = m.docid LEFT JOIN bookings b ON b.id = x.booking_id
        WHERE m.patient_id = new.id;
    DELETE FROM patient_search_ids WHERE patient_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER patients_search_delete AFTER DELETE ON patients BEGIN
    INSERT INTO search_queue (docid, doc, ref)
        SELECT m.docid, b.search_text, NULL
        FROM patient_search_ids m LEFT JOIN booking_search_ids x ON x.docid = m.docid LEFT JOIN bookings b ON b.id = x.booking_id
        WHERE m.patient_id = old.id;
    DELETE FROM patient_search_ids WHERE patient_id = old.id;
END;
-- +goose StatementEnd

-- +goose Down
-- Back to two indexes, each rebuilt from its rows (the map tables keep
-- their docids: two indexes may hold the same one), and 00050's queue and
-- triggers.
DROP TRIGGER bookings_search_insert;
DROP TRIGGER bookings_search_update;
DROP TRIGGER bookings_search_delete;
DROP TRIGGER patients_search_insert;
DROP TRIGGER patients_search_update;
DROP TRIGGER patients_search_merged;
DROP TRIGGER patients_search_delete;
DROP TABLE search_queue;
CREATE TABLE search_queue (
    id    INTEGER PRIMARY KEY,
    tbl   TEXT NOT NULL CHECK (tbl IN ('b', 'p')), -- booking_search, patient_search
    docid INTEGER NOT NULL,
    doc   TEXT
);
DROP TABLE booking_search;
CREATE VIRTUAL TABLE booking_search USING fts4(doc, prefix="2,3,4,5,6,7,8", tokenize=unicode61);
INSERT INTO booking_search (docid, doc)
    SELECT m.docid, b.search_text FROM booking_search_ids m JOIN bookings b ON b.id = m.booking_id ORDER BY m.docid;
INSERT INTO booking_search (booking_search) VALUES ('optimize');
INSERT INTO booking_search (booking_search) VALUES ('automerge=8');
CREATE VIRTUAL TABLE patient_search USING fts4(doc, prefix="2,3,4,5,6,7,8", tokenize=unicode61);
INSERT INTO patient_search (docid, doc)
    SELECT m.docid, p.search_text FROM patient_search_ids m JOIN patients p ON p.id = m.patient_id ORDER BY m.docid;
INSERT INTO patient_search (patient_search) VALUES ('optimize');
INSERT INTO patient_search (patient_search) VALUES ('automerge=8');

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
