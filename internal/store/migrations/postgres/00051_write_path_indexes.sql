-- +goose Up
-- Fewer index pages for each booking to write (see the SQLite migration of
-- the same number): one index on a patient's date of birth for matching,
-- and manage tokens keyed by (booking_id, token_hash), the only way they
-- are looked up, instead of by the random hash with a second index on
-- booking_id.
DROP INDEX patients_dob_phone;
DROP INDEX patients_dob_email;
CREATE INDEX patients_dob ON patients (dob);

ALTER TABLE booking_manage_tokens DROP CONSTRAINT booking_manage_tokens_pkey;
ALTER TABLE booking_manage_tokens ADD PRIMARY KEY (booking_id, token_hash);
DROP INDEX booking_manage_tokens_booking;

-- +goose Down
CREATE INDEX booking_manage_tokens_booking ON booking_manage_tokens (booking_id);
ALTER TABLE booking_manage_tokens DROP CONSTRAINT booking_manage_tokens_pkey;
ALTER TABLE booking_manage_tokens ADD PRIMARY KEY (token_hash);

DROP INDEX patients_dob;
CREATE INDEX patients_dob_phone ON patients (dob, phone);
CREATE INDEX patients_dob_email ON patients (dob, email_norm);
