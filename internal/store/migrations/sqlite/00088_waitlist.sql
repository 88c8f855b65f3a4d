-- +goose Up
-- The waitlist (§12). An entry waits for a place of a consultation type
-- (and optionally a provider and a location) between two local dates
-- (YYYY-MM-DD), at some times of day (a JSON array; [] is any time), with
-- the patient, intake and consent of a booking request. Urgent entries
-- (triage_level 'urgent' sorts after 'routine') go first, then the oldest.
CREATE TABLE waitlist_entries (
    id                   TEXT PRIMARY KEY,
    reference            TEXT NOT NULL UNIQUE,
    consultation_type_id TEXT NOT NULL REFERENCES consultation_types (id),
    provider_id          TEXT REFERENCES providers (id),
    location_id          TEXT REFERENCES locations (id),
    earliest_date        TEXT NOT NULL,
    latest_date          TEXT NOT NULL,
    times_of_day         TEXT NOT NULL DEFAULT '[]',
    patient_first_name   TEXT NOT NULL,
    patient_last_name    TEXT NOT NULL,
    patient_dob          TEXT NOT NULL,
    patient_phone        TEXT NOT NULL,
    patient_email        TEXT NOT NULL DEFAULT '',
    intake               TEXT NOT NULL,
    consent_privacy      BOOLEAN NOT NULL,
    consent_sms          BOOLEAN NOT NULL,
    consent_email        BOOLEAN NOT NULL,
    triage_level         TEXT NOT NULL DEFAULT 'routine',
    triage_rules         TEXT NOT NULL DEFAULT '[]',
    source               TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'booked', 'lapsed', 'left')),
    booking_id           TEXT REFERENCES bookings (id),
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL
);
CREATE INDEX waitlist_entries_queue ON waitlist_entries (status, consultation_type_id, triage_level DESC, created_at, id);
CREATE INDEX waitlist_entries_list ON waitlist_entries (triage_level DESC, created_at, id);
CREATE INDEX waitlist_entries_phone ON waitlist_entries (patient_phone, status);
CREATE INDEX waitlist_entries_email ON waitlist_entries (lower(patient_email), status);

-- An entry's manage tokens, as hashes: the one its join answered with, and
-- one per offer message.
CREATE TABLE waitlist_tokens (
    token_hash TEXT PRIMARY KEY,
    entry_id   TEXT NOT NULL REFERENCES waitlist_entries (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL
);
CREATE INDEX waitlist_tokens_entry ON waitlist_tokens (entry_id);

-- An entry's history, append-only.
CREATE TABLE waitlist_events (
    id             TEXT PRIMARY KEY,
    entry_id       TEXT NOT NULL REFERENCES waitlist_entries (id) ON DELETE CASCADE,
    type           TEXT NOT NULL,
    slot_id        TEXT,
    actor_type     TEXT NOT NULL,
    actor_staff_id TEXT,
    at             DATETIME NOT NULL
);
CREATE INDEX waitlist_events_entry ON waitlist_events (entry_id, at);

-- An offer holds its place as a row of slot_holds (hold_id, whose token
-- hashes to hold_token_hash), so it counts against the slot's capacity
-- exactly as a widget's hold does, under the same lock. At most one live
-- offer per entry. An offer that ended without a booking (declined, lapsed,
-- withdrawn) is passed_on once its place was offered to the next entry. An
-- offer is told once its messages are written (a staff member's offer: by
-- the next sweep).
CREATE TABLE waitlist_offers (
    id              TEXT PRIMARY KEY,
    entry_id        TEXT NOT NULL REFERENCES waitlist_entries (id) ON DELETE CASCADE,
    slot_id         TEXT NOT NULL REFERENCES slots (id) ON DELETE CASCADE,
    hold_id         TEXT NOT NULL,
    hold_token_hash TEXT NOT NULL,
    start_at        BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('live', 'accepted', 'declined', 'lapsed', 'withdrawn')),
    passed_on       BOOLEAN NOT NULL DEFAULT FALSE,
    told            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX waitlist_offers_live ON waitlist_offers (entry_id) WHERE status = 'live';
CREATE INDEX waitlist_offers_expiry ON waitlist_offers (status, expires_at);
CREATE INDEX waitlist_offers_pass_on ON waitlist_offers (passed_on, status);

-- +goose Down
DROP TABLE waitlist_offers;
DROP TABLE waitlist_events;
DROP TABLE waitlist_tokens;
DROP TABLE waitlist_entries;
