-- +goose Up
-- A booking may hold several manage tokens: the one shown when it was made,
-- and one minted for each message that carries a manage link. Only their
-- SHA-256 is kept. The existing bookings' tokens move over unchanged, so every
-- link already given out keeps working.
CREATE TABLE booking_manage_tokens (
    token_hash  TEXT PRIMARY KEY,
    booking_id  TEXT NOT NULL REFERENCES bookings (id),
    message_id  TEXT,
    created_at  DATETIME NOT NULL
);
CREATE INDEX booking_manage_tokens_booking ON booking_manage_tokens (booking_id);
INSERT INTO booking_manage_tokens (token_hash, booking_id, created_at)
    SELECT manage_token_hash, id, created_at FROM bookings;

-- +goose Down
DROP TABLE booking_manage_tokens;
