-- +goose Up
-- A write that only takes or frees places of a slot (a booking made,
-- cancelled, declined, expired or moved: the slot's booked count; a hold
-- placed or released) is logged with the slot's id as a third part of its
-- scope, "provider_id/day/slot_id", so that a process caching availability
-- answers can patch that slot's places in them instead of dropping every
-- answer about that provider and day. Any other write to a slot is logged
-- as before ("provider_id/day"). A reader that knows only the two-part form
-- reads a three-part scope as one it cannot parse: it drops everything,
-- which is safe.
DROP TRIGGER slots_availability_update;
-- +goose StatementBegin
CREATE TRIGGER slots_availability_update AFTER UPDATE ON slots BEGIN
    INSERT INTO availability_changes (scope) SELECT NEW.provider_id || '/' || (NEW.start_at / 86400) ||
        CASE WHEN OLD.provider_id IS NEW.provider_id AND OLD.location_id IS NEW.location_id
              AND OLD.consultation_type_id IS NEW.consultation_type_id AND OLD.start_at IS NEW.start_at
              AND OLD.end_at IS NEW.end_at AND OLD.capacity IS NEW.capacity AND OLD.status IS NEW.status
             THEN '/' || NEW.id ELSE '' END;
    INSERT INTO availability_changes (scope) SELECT OLD.provider_id || '/' || (OLD.start_at / 86400) WHERE OLD.provider_id IS NOT NEW.provider_id OR OLD.start_at / 86400 IS NOT NEW.start_at / 86400;
END;
-- +goose StatementEnd

DROP TRIGGER slot_holds_availability_insert;
DROP TRIGGER slot_holds_availability_update;
DROP TRIGGER slot_holds_availability_delete;
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_insert AFTER INSERT ON slot_holds BEGIN
    INSERT INTO availability_changes (scope) SELECT s.provider_id || '/' || (s.start_at / 86400) || '/' || s.id FROM slots s WHERE s.id = NEW.slot_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_update AFTER UPDATE ON slot_holds BEGIN
    INSERT INTO availability_changes (scope) SELECT s.provider_id || '/' || (s.start_at / 86400) || '/' || s.id FROM slots s WHERE s.id = NEW.slot_id;
    INSERT INTO availability_changes (scope) SELECT s.provider_id || '/' || (s.start_at / 86400) || '/' || s.id FROM slots s WHERE s.id = OLD.slot_id AND OLD.slot_id IS NOT NEW.slot_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_delete AFTER DELETE ON slot_holds BEGIN
    INSERT INTO availability_changes (scope) SELECT s.provider_id || '/' || (s.start_at / 86400) || '/' || s.id FROM slots s WHERE s.id = OLD.slot_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER slot_holds_availability_delete;
DROP TRIGGER slot_holds_availability_update;
DROP TRIGGER slot_holds_availability_insert;
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_insert AFTER INSERT ON slot_holds BEGIN
    INSERT INTO availability_changes (scope) SELECT s.provider_id || '/' || (s.start_at / 86400) FROM slots s WHERE s.id = NEW.slot_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_update AFTER UPDATE ON slot_holds BEGIN
    INSERT INTO availability_changes (scope) SELECT s.provider_id || '/' || (s.start_at / 86400) FROM slots s WHERE s.id = NEW.slot_id;
    INSERT INTO availability_changes (scope) SELECT s.provider_id || '/' || (s.start_at / 86400) FROM slots s WHERE s.id = OLD.slot_id AND OLD.slot_id IS NOT NEW.slot_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_delete AFTER DELETE ON slot_holds BEGIN
    INSERT INTO availability_changes (scope) SELECT s.provider_id || '/' || (s.start_at / 86400) FROM slots s WHERE s.id = OLD.slot_id;
END;
-- +goose StatementEnd
DROP TRIGGER slots_availability_update;
-- +goose StatementBegin
CREATE TRIGGER slots_availability_update AFTER UPDATE ON slots BEGIN
    INSERT INTO availability_changes (scope) VALUES (NEW.provider_id || '/' || (NEW.start_at / 86400));
    INSERT INTO availability_changes (scope) SELECT OLD.provider_id || '/' || (OLD.start_at / 86400) WHERE OLD.provider_id IS NOT NEW.provider_id OR OLD.start_at / 86400 IS NOT NEW.start_at / 86400;
END;
-- +goose StatementEnd
