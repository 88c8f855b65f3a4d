-- +goose Up
-- What a process caching availability answers needs to learn of the
-- commits to this file, its own and other processes': which answers they
-- may have changed. A log, one row a row written to the tables
-- availability reads, numbered by seq (the rowid: each new row one more
-- than the largest, so a reader that remembers the largest it saw reads
-- what is new, and a gap tells it that rows it had not read were pruned).
-- scope is a provider's slots starting on one UTC day ("provider_id/day",
-- day = start_at / 86400), a provider as a whole ("provider_id", for
-- explicit invalidations), or '*' for the catalogue, which every answer
-- reads. The triggers below write it, in the writing transaction, so that
-- every write counts, whatever wrote it (this server, another instance, a
-- maintenance script). Appending costs a booking about one page, most
-- often the one the last booking appended to.
CREATE TABLE availability_changes (
    seq   INTEGER PRIMARY KEY,
    scope TEXT NOT NULL
);

-- The last 10,000 to 11,000 rows are kept: every thousandth row prunes a
-- thousand.
-- +goose StatementBegin
CREATE TRIGGER availability_changes_prune AFTER INSERT ON availability_changes
WHEN NEW.seq % 1000 = 0 BEGIN
    DELETE FROM availability_changes WHERE seq <= NEW.seq - 10000;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER slots_availability_insert AFTER INSERT ON slots BEGIN
    INSERT INTO availability_changes (scope) VALUES (NEW.provider_id || '/' || (NEW.start_at / 86400));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slots_availability_update AFTER UPDATE ON slots BEGIN
    INSERT INTO availability_changes (scope) VALUES (NEW.provider_id || '/' || (NEW.start_at / 86400));
    INSERT INTO availability_changes (scope) SELECT OLD.provider_id || '/' || (OLD.start_at / 86400) WHERE OLD.provider_id IS NOT NEW.provider_id OR OLD.start_at / 86400 IS NOT NEW.start_at / 86400;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slots_availability_delete AFTER DELETE ON slots BEGIN
    INSERT INTO availability_changes (scope) VALUES (OLD.provider_id || '/' || (OLD.start_at / 86400));
END;
-- +goose StatementEnd

-- A hold counts for its slot. A hold whose slot is gone was deleted with
-- it, and the slot's own trigger counted that.
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

-- The catalogue (active flags, time zones) is read by every answer.
-- +goose StatementBegin
CREATE TRIGGER providers_availability_insert AFTER INSERT ON providers BEGIN
    INSERT INTO availability_changes (scope) VALUES ('*');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER providers_availability_update AFTER UPDATE ON providers BEGIN
    INSERT INTO availability_changes (scope) VALUES ('*');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER providers_availability_delete AFTER DELETE ON providers BEGIN
    INSERT INTO availability_changes (scope) VALUES ('*');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER locations_availability_insert AFTER INSERT ON locations BEGIN
    INSERT INTO availability_changes (scope) VALUES ('*');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER locations_availability_update AFTER UPDATE ON locations BEGIN
    INSERT INTO availability_changes (scope) VALUES ('*');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER locations_availability_delete AFTER DELETE ON locations BEGIN
    INSERT INTO availability_changes (scope) VALUES ('*');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consultation_types_availability_insert AFTER INSERT ON consultation_types BEGIN
    INSERT INTO availability_changes (scope) VALUES ('*');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consultation_types_availability_update AFTER UPDATE ON consultation_types BEGIN
    INSERT INTO availability_changes (scope) VALUES ('*');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consultation_types_availability_delete AFTER DELETE ON consultation_types BEGIN
    INSERT INTO availability_changes (scope) VALUES ('*');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER consultation_types_availability_delete;
DROP TRIGGER consultation_types_availability_update;
DROP TRIGGER consultation_types_availability_insert;
DROP TRIGGER locations_availability_delete;
DROP TRIGGER locations_availability_update;
DROP TRIGGER locations_availability_insert;
DROP TRIGGER providers_availability_delete;
DROP TRIGGER providers_availability_update;
DROP TRIGGER providers_availability_insert;
DROP TRIGGER slot_holds_availability_delete;
DROP TRIGGER slot_holds_availability_update;
DROP TRIGGER slot_holds_availability_insert;
DROP TRIGGER slots_availability_delete;
DROP TRIGGER slots_availability_update;
DROP TRIGGER slots_availability_insert;
DROP TRIGGER availability_changes_prune;
DROP TABLE availability_changes;
