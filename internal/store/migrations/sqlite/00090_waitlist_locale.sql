-- +goose Up
-- The language a waitlist entry was made in (en or es), as a booking's
-- (00081): its offer and link messages speak it. Entries made before it
-- was recorded were all made in English.
ALTER TABLE waitlist_entries ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';

-- When the entry's link was last sent again to a patient who joined a
-- second time with the same details (never in the answer: by email or SMS
-- only); it keeps such resends to one every few minutes. NULL: never.
ALTER TABLE waitlist_entries ADD COLUMN link_resent_at DATETIME;

-- +goose Down
ALTER TABLE waitlist_entries DROP COLUMN link_resent_at;
ALTER TABLE waitlist_entries DROP COLUMN locale;
