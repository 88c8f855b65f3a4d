-- +goose Up
-- Fewer index pages for each booking to write. An index keyed by something
-- random (a hash, a date of birth) takes each new entry on a page of its
-- own, and every such page is written whole at the commit.
--
-- Matching a booking to its patient reads the few records born that day
-- (a date of birth is shared by a handful at most) and compares phone and
-- email itself: one index on dob instead of one with each key.
DROP INDEX patients_dob_phone;
DROP INDEX patients_dob_email;
CREATE INDEX patients_dob ON patients (dob);

-- A manage token is only ever looked up with its booking (the reference
-- comes with the token): keyed by (booking_id, token_hash) the table is one
-- B-tree, which time-ordered booking ids fill at its end, instead of a
-- table, an index on the random hash and one on booking_id.
CREATE TABLE booking_manage_tokens_new (
    booking_id  TEXT NOT NULL REFERENCES bookings (id),
    token_hash  TEXT NOT NULL,
    message_id  TEXT,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (booking_id, token_hash)
) WITHOUT ROWID;
INSERT INTO booking_manage_tokens_new (booking_id, token_hash, message_id, created_at)
    SELECT booking_id, token_hash, message_id, created_at FROM booking_manage_tokens;
DROP TABLE booking_manage_tokens;
ALTER TABLE booking_manage_tokens_new RENAME TO booking_manage_tokens;

-- +goose Down
CREATE TABLE booking_manage_tokens_old (
    token_hash  TEXT PRIMARY KEY,
    booking_id  TEXT NOT NULL REFERENCES bookings (id),
    message_id  TEXT,
    created_at  DATETIME NOT NULL
);
INSERT INTO booking_manage_tokens_old (token_hash, booking_id, message_id, created_at)
    SELECT token_hash, booking_id, message_id, created_at FROM booking_manage_tokens;
DROP TABLE booking_manage_tokens;
ALTER TABLE booking_manage_tokens_old RENAME TO booking_manage_tokens;
CREATE INDEX booking_manage_tokens_booking ON booking_manage_tokens (booking_id);

DROP INDEX patients_dob;
CREATE INDEX patients_dob_phone ON patients (dob, phone);
CREATE INDEX patients_dob_email ON patients (dob, email_norm);
