-- +goose Up
CREATE TABLE staff (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    email_lower         TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'reception', 'clinician')),
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash       TEXT NOT NULL,
    password_changed_at TIMESTAMPTZ NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    staff_id    TEXT NOT NULL REFERENCES staff (id),
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_staff ON refresh_tokens (staff_id);

CREATE TABLE audit_events (
    id               TEXT PRIMARY KEY,
    type             TEXT NOT NULL,
    actor_staff_id   TEXT,
    subject_staff_id TEXT,
    email            TEXT,
    client_ip        TEXT NOT NULL DEFAULT '',
    detail           TEXT NOT NULL DEFAULT '',
    at               TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at DESC, id DESC);

CREATE TABLE providers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    title      TEXT NOT NULL DEFAULT '',
    staff_id   TEXT REFERENCES staff (id),
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE locations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    address    TEXT NOT NULL DEFAULT '',
    timezone   TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE consultation_types (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    duration_minutes      INTEGER NOT NULL,
    requires_confirmation BOOLEAN NOT NULL DEFAULT FALSE,
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE schedules (
    id                   TEXT PRIMARY KEY,
    provider_id          TEXT NOT NULL REFERENCES providers (id),
    location_id          TEXT NOT NULL REFERENCES locations (id),
    consultation_type_id TEXT NOT NULL REFERENCES consultation_types (id),
    slot_minutes         INTEGER NOT NULL,
    capacity             INTEGER NOT NULL,
    valid_from           TEXT NOT NULL,
    valid_to             TEXT,
    windows              TEXT NOT NULL,
    active               BOOLEAN NOT NULL DEFAULT TRUE,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

-- start_at and end_at are Unix seconds (UTC instants): integer range scans are
-- exact and fast on both databases, with no text-format pitfalls.
CREATE TABLE slots (
    id                   TEXT PRIMARY KEY,
    provider_id          TEXT NOT NULL REFERENCES providers (id),
    location_id          TEXT NOT NULL REFERENCES locations (id),
    consultation_type_id TEXT NOT NULL REFERENCES consultation_types (id),
    schedule_id          TEXT REFERENCES schedules (id) ON DELETE SET NULL,
    start_at             BIGINT NOT NULL,
    end_at               BIGINT NOT NULL,
    capacity             INTEGER NOT NULL CHECK (capacity >= 1),
    booked               INTEGER NOT NULL DEFAULT 0,
    status               TEXT NOT NULL CHECK (status IN ('open', 'blocked')),
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    CHECK (end_at > start_at),
    -- Rule 1 held by the database itself: no write can leave a slot overbooked.
    CHECK (booked >= 0 AND booked <= capacity)
);
CREATE UNIQUE INDEX slots_provider_start ON slots (provider_id, start_at);
CREATE INDEX slots_start ON slots (start_at);

CREATE TABLE bookings (
    id                  TEXT PRIMARY KEY,
    reference           TEXT NOT NULL UNIQUE,
    slot_id             TEXT NOT NULL REFERENCES slots (id),
    status              TEXT NOT NULL,
    source              TEXT NOT NULL,
    patient_first_name  TEXT NOT NULL,
    patient_last_name   TEXT NOT NULL,
    patient_dob         TEXT NOT NULL,
    patient_phone       TEXT NOT NULL,
    patient_email       TEXT NOT NULL,
    search_text         TEXT NOT NULL DEFAULT '',
    intake              TEXT NOT NULL,
    consent_privacy     BOOLEAN NOT NULL,
    consent_sms         BOOLEAN NOT NULL DEFAULT FALSE,
    consent_email       BOOLEAN NOT NULL DEFAULT FALSE,
    notes               TEXT NOT NULL DEFAULT '',
    cancellation_reason TEXT NOT NULL DEFAULT '',
    manage_token_hash   TEXT NOT NULL,
    created_by_staff_id TEXT,
    version             INTEGER NOT NULL DEFAULT 1,
    slot_start_at       BIGINT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX bookings_slot ON bookings (slot_id);
CREATE INDEX bookings_created ON bookings (created_at DESC, id DESC);
CREATE INDEX bookings_start ON bookings (slot_start_at, id);
CREATE INDEX bookings_status_created ON bookings (status, created_at);

CREATE TABLE booking_events (
    id             TEXT PRIMARY KEY,
    booking_id     TEXT NOT NULL REFERENCES bookings (id),
    actor_type     TEXT NOT NULL,
    actor_staff_id TEXT,
    type           TEXT NOT NULL,
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX booking_events_booking ON booking_events (booking_id, at);

CREATE TABLE idempotency_keys (
    scope           TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body   TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE booking_events;
DROP TABLE bookings;
DROP TABLE slots;
DROP TABLE schedules;
DROP TABLE consultation_types;
DROP TABLE locations;
DROP TABLE providers;
DROP TABLE audit_events;
DROP TABLE refresh_tokens;
DROP TABLE staff;
