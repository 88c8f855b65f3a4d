-- +goose Up
-- A slot hold keeps one place of a slot for one visitor of the booking
-- widget until expires_at (Unix seconds). It counts against the slot's
-- capacity only while it lives (expires_at > now): an expired row counts for
-- nothing, so no job is needed for correctness; rows expired for a day are deleted
-- whenever a hold of the same slot is taken. The token and the client
-- address are kept only as hashes.
CREATE TABLE slot_holds (
    id          TEXT PRIMARY KEY,
    slot_id     TEXT NOT NULL REFERENCES slots (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL,
    client_hash TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    created_at  DATETIME NOT NULL
);
CREATE INDEX slot_holds_slot ON slot_holds (slot_id, expires_at);
CREATE INDEX slot_holds_client ON slot_holds (client_hash, expires_at);
CREATE INDEX slot_holds_expires ON slot_holds (expires_at);

-- What the patient booked, by name, as it was when booked (or last moved):
-- renaming a provider later does not change what the patient was told.
ALTER TABLE bookings ADD COLUMN provider_name TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN location_name TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN location_address TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN consultation_type_name TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN timezone TEXT NOT NULL DEFAULT '';
UPDATE bookings SET
    provider_name = (SELECT p.name FROM slots s JOIN providers p ON p.id = s.provider_id WHERE s.id = bookings.slot_id),
    location_name = (SELECT l.name FROM slots s JOIN locations l ON l.id = s.location_id WHERE s.id = bookings.slot_id),
    location_address = (SELECT l.address FROM slots s JOIN locations l ON l.id = s.location_id WHERE s.id = bookings.slot_id),
    timezone = (SELECT l.timezone FROM slots s JOIN locations l ON l.id = s.location_id WHERE s.id = bookings.slot_id),
    consultation_type_name = (SELECT c.name FROM slots s JOIN consultation_types c ON c.id = s.consultation_type_id WHERE s.id = bookings.slot_id);

-- +goose Down
ALTER TABLE bookings DROP COLUMN timezone;
ALTER TABLE bookings DROP COLUMN consultation_type_name;
ALTER TABLE bookings DROP COLUMN location_address;
ALTER TABLE bookings DROP COLUMN location_name;
ALTER TABLE bookings DROP COLUMN provider_name;
DROP TABLE slot_holds;
