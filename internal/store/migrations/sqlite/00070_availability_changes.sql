-- +goose Up
-- What a process caching availability answers needs to learn of the
-- commits of other processes on this file: which providers' availability
-- they may have changed. One row a scope (a provider's id, or '*' for the
-- catalogue, which every answer reads), whose seq moves with every write
-- to a slot of that provider, a hold on one, or the catalogue. The triggers
-- below keep it, in the writing transaction, so that every write counts,
-- whatever wrote it (this server, another instance, a maintenance script).
CREATE TABLE availability_changes (
    scope TEXT PRIMARY KEY,
    seq   INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER slots_availability_insert AFTER INSERT ON slots BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES (NEW.provider_id, 1)
        ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slots_availability_update AFTER UPDATE ON slots BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES (NEW.provider_id, 1)
        ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
    INSERT INTO availability_changes (scope, seq)
        SELECT OLD.provider_id, 1 WHERE OLD.provider_id IS NOT NEW.provider_id
        ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slots_availability_delete AFTER DELETE ON slots BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES (OLD.provider_id, 1)
        ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd

-- A hold counts for its slot's provider. A hold whose slot is gone was
-- deleted with it, and the slot's own trigger counted that.
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_insert AFTER INSERT ON slot_holds BEGIN
    INSERT INTO availability_changes (scope, seq)
        SELECT provider_id, 1 FROM slots WHERE id = NEW.slot_id
        ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_update AFTER UPDATE ON slot_holds BEGIN
    INSERT INTO availability_changes (scope, seq)
        SELECT provider_id, 1 FROM slots WHERE id = NEW.slot_id
        ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
    INSERT INTO availability_changes (scope, seq)
        SELECT provider_id, 1 FROM slots WHERE id = OLD.slot_id AND OLD.slot_id IS NOT NEW.slot_id
        ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_delete AFTER DELETE ON slot_holds BEGIN
    INSERT INTO availability_changes (scope, seq)
        SELECT provider_id, 1 FROM slots WHERE id = OLD.slot_id
        ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd

-- The catalogue (active flags, time zones) is read by every answer.
-- +goose StatementBegin
CREATE TRIGGER providers_availability_insert AFTER INSERT ON providers BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES ('*', 1) ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER providers_availability_update AFTER UPDATE ON providers BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES ('*', 1) ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER providers_availability_delete AFTER DELETE ON providers BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES ('*', 1) ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER locations_availability_insert AFTER INSERT ON locations BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES ('*', 1) ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER locations_availability_update AFTER UPDATE ON locations BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES ('*', 1) ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER locations_availability_delete AFTER DELETE ON locations BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES ('*', 1) ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consultation_types_availability_insert AFTER INSERT ON consultation_types BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES ('*', 1) ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consultation_types_availability_update AFTER UPDATE ON consultation_types BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES ('*', 1) ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consultation_types_availability_delete AFTER DELETE ON consultation_types BEGIN
    INSERT INTO availability_changes (scope, seq) VALUES ('*', 1) ON CONFLICT (scope) DO UPDATE SET seq = seq + 1;
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
DROP TABLE availability_changes;
