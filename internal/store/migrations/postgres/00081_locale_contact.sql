-- +goose Up
-- The language a booking was made in (en or es): its messages, calendar
-- file and manage page speak it. Bookings made before it was recorded were
-- all made in English.
ALTER TABLE bookings ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';

-- Translations of what patients read about a consultation type or a
-- location, as a JSON object by language: {"es": {"name": "...",
-- "description": "..."}}. Empty: English only.
ALTER TABLE consultation_types ADD COLUMN translations TEXT NOT NULL DEFAULT '{}';
ALTER TABLE locations ADD COLUMN translations TEXT NOT NULL DEFAULT '{}';
ALTER TABLE locations ADD COLUMN description TEXT NOT NULL DEFAULT '';

-- How a patient reaches a location: its phone number (E.164) and opening
-- hours (one line of free text); empty when not given.
ALTER TABLE locations ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN opening_hours TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE locations DROP COLUMN opening_hours;
ALTER TABLE locations DROP COLUMN phone;
ALTER TABLE locations DROP COLUMN description;
ALTER TABLE locations DROP COLUMN translations;
ALTER TABLE consultation_types DROP COLUMN translations;
ALTER TABLE bookings DROP COLUMN locale;
