-- +goose Up
-- A patient record holds one person's bookings. Bookings made before it
-- existed are attached to records by the Go migration that follows (41),
-- with the same matching rule as new bookings.
CREATE TABLE patients (
    id          TEXT PRIMARY KEY,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    dob         TEXT NOT NULL,
    phone       TEXT NOT NULL,
    email       TEXT NOT NULL DEFAULT '',
    email_norm  TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT '',
    merged_into TEXT REFERENCES patients (id),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
-- Matching a booking to its patient: same date of birth and phone, or
-- same date of birth and email.
CREATE INDEX patients_dob_phone ON patients (dob, phone);
CREATE INDEX patients_dob_email ON patients (dob, email_norm);
CREATE INDEX patients_created ON patients (created_at DESC, id DESC);

ALTER TABLE bookings ADD COLUMN patient_id TEXT REFERENCES patients (id);
CREATE INDEX bookings_patient ON bookings (patient_id, created_at);

-- +goose Down
DROP INDEX bookings_patient;
ALTER TABLE bookings DROP COLUMN patient_id;
DROP TABLE patients;
