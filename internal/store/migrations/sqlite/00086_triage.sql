-- +goose Up
-- The intake form as each version was served (every language, questions
-- and triage rules, as JSON): a booking names the version it was answered
-- under, so changing the rules or their wording never rewrites what a
-- past patient was asked or told. A version is a digest of its form, so a
-- row never changes once written.
CREATE TABLE intake_forms (
    version    TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- What the triage rules made of a booking's answers when it was made
-- (routine or urgent; emergencies are refused, not stored), the ids of the
-- rules that fired (a JSON array), and, for a phone booking of emergency
-- answers, the staff member's record that they advised emergency care (a
-- JSON object, NULL otherwise). Bookings made before have no version.
ALTER TABLE bookings ADD COLUMN intake_form_version TEXT;
ALTER TABLE bookings ADD COLUMN triage_level TEXT NOT NULL DEFAULT 'routine';
ALTER TABLE bookings ADD COLUMN triage_rules TEXT NOT NULL DEFAULT '[]';
ALTER TABLE bookings ADD COLUMN triage_override TEXT;

-- The staff queue (?sort=triage): urgent first, then oldest first.
CREATE INDEX bookings_triage ON bookings (triage_level DESC, created_at, id);

-- +goose Down
DROP INDEX bookings_triage;
ALTER TABLE bookings DROP COLUMN triage_override;
ALTER TABLE bookings DROP COLUMN triage_rules;
ALTER TABLE bookings DROP COLUMN triage_level;
ALTER TABLE bookings DROP COLUMN intake_form_version;
DROP TABLE intake_forms;
