-- +goose Up
-- The booking writer (createBooking, internal/store/search_docid.go) now
-- gives a new booking, and the patient record made with it, their search
-- docids and queues the document itself, before inserting the rows: it
-- knows what the insert triggers work out with four subqueries and a
-- three-table join (whether the record is new, with which words), and the
-- triggers were about half of the bookings INSERT, the largest statement of
-- a booking on SQLite. The same docids, the same documents, the same rule
-- of one shared document (00097) and creation order (00043).
--
-- The insert triggers are unchanged except that they step aside for a row
-- whose map row is already there; every other insert (seeding, the patient
-- backfill, older code) still goes through them. Nothing else changes: no
-- row, docid or document is rewritten.
DROP TRIGGER bookings_search_insert;
DROP TRIGGER patients_search_insert;
-- +goose StatementBegin
CREATE TRIGGER bookings_search_insert AFTER INSERT ON bookings
WHEN NOT EXISTS (SELECT 1 FROM booking_search_ids WHERE booking_id = new.id) BEGIN
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
-- +goose StatementBegin
CREATE TRIGGER patients_search_insert AFTER INSERT ON patients
WHEN NOT EXISTS (SELECT 1 FROM patient_search_ids WHERE patient_id = new.id) BEGIN
    INSERT INTO patient_search_ids (docid, patient_id, created_at)
        SELECT max(coalesce((SELECT max(docid) + 1 FROM booking_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo),
                   coalesce((SELECT max(docid) + 1 FROM patient_search_ids WHERE docid >= k.lo AND docid < k.lo + 1048576), k.lo)),
               new.id, new.created_at
        FROM (SELECT CAST((julianday(new.created_at) - 2440587.5) * 86400000 AS INTEGER) * 1048576 AS lo) k;
    INSERT INTO search_queue (docid, doc, ref)
        SELECT docid, new.search_text, NULL FROM patient_search_ids WHERE patient_id = new.id;
END;
-- +goose StatementEnd

-- +goose Down
-- Back to 00097's triggers, which always work the docid out (a row the
-- writer mapped before the downgrade stays mapped).
DROP TRIGGER bookings_search_insert;
DROP TRIGGER patients_search_insert;
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
