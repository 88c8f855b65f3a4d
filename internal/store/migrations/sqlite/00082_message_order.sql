-- +goose Up
-- The order of a booking's patient messages, per channel (email, sms): the
-- version of the newest message about the booking's state written
-- (written_version, by the relay in the transaction that writes the
-- message) and sent (sent_version), and the send under way, if any: the
-- message id that holds the booking's turn (claim_id) and until when, in
-- Unix milliseconds (claim_until). See store.ClaimMessageSend.
CREATE TABLE message_order (
    booking_id      TEXT NOT NULL,
    channel         TEXT NOT NULL,
    written_version INTEGER NOT NULL DEFAULT 0,
    sent_version    INTEGER NOT NULL DEFAULT 0,
    claim_id        TEXT,
    claim_until     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (booking_id, channel)
);

-- +goose Down
DROP TABLE message_order;
