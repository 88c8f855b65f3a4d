-- +goose Up
-- MAX_LIVE_PER_PATIENT counts, in each online booking's transaction, the
-- live future online bookings with the patient's phone and with their
-- normalised email (store/patient_limit.go). These partial indexes hold
-- only live online bookings, so the two counts stay index lookups however
-- many bookings the clinic keeps; the predicate is written exactly as the
-- queries write it, which SQLite needs to use them.
CREATE INDEX bookings_online_live_phone ON bookings (patient_phone, slot_start_at)
    WHERE source = 'web' AND status IN ('pending', 'confirmed', 'checked_in');
CREATE INDEX bookings_online_live_email ON bookings (lower(patient_email), slot_start_at)
    WHERE source = 'web' AND status IN ('pending', 'confirmed', 'checked_in');

-- +goose Down
DROP INDEX bookings_online_live_email;
DROP INDEX bookings_online_live_phone;
