-- +goose Up
-- What a process caching availability answers needs to learn of the
-- commits of other processes on this file (and of its own): which answers
-- they may have changed. One row a scope: a provider's slots starting on
-- one UTC day ("provider_id/day", day = start_at / 86400), a provider as a
-- whole ("provider_id", for explicit invalidations), or '*' for the
-- catalogue, which every answer reads. seq is the number of the last change
-- to the scope, from one sequence for the whole table (one more than its
-- largest), so a reader that remembers the largest it saw reads only the
-- changes since (availability_changes_seq). The triggers below keep it, in
-- the writing transaction, so that every write counts, whatever wrote it
-- (this server, another instance, a maintenance script).
CREATE TABLE availability_changes (
    scope TEXT PRIMARY KEY,
    seq   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX availability_changes_seq ON availability_changes (seq);

-- +goose StatementBegin
CREATE TRIGGER slots_availability_insert AFTER INSERT ON slots BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES (NEW.provider_id || '/' || (NEW.start_at / 86400), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slots_availability_update AFTER UPDATE ON slots BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES (NEW.provider_id || '/' || (NEW.start_at / 86400), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
    INSERT INTO availability_changes (scope, seq)
        SELECT OLD.provider_id || '/' || (OLD.start_at / 86400), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes) WHERE OLD.provider_id IS NOT NEW.provider_id OR OLD.start_at / 86400 IS NOT NEW.start_at / 86400
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slots_availability_delete AFTER DELETE ON slots BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES (OLD.provider_id || '/' || (OLD.start_at / 86400), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd

-- A hold counts for its slot. A hold whose slot is gone was deleted with
-- it, and the slot's own trigger counted that.
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_insert AFTER INSERT ON slot_holds BEGIN
    INSERT INTO availability_changes (scope, seq)
        SELECT s.provider_id || '/' || (s.start_at / 86400), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes) FROM slots s WHERE s.id = NEW.slot_id
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_update AFTER UPDATE ON slot_holds BEGIN
    INSERT INTO availability_changes (scope, seq)
        SELECT s.provider_id || '/' || (s.start_at / 86400), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes) FROM slots s WHERE s.id = NEW.slot_id
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
    INSERT INTO availability_changes (scope, seq)
        SELECT s.provider_id || '/' || (s.start_at / 86400), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes) FROM slots s WHERE s.id = OLD.slot_id AND OLD.slot_id IS NOT NEW.slot_id
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER slot_holds_availability_delete AFTER DELETE ON slot_holds BEGIN
    INSERT INTO availability_changes (scope, seq)
        SELECT s.provider_id || '/' || (s.start_at / 86400), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes) FROM slots s WHERE s.id = OLD.slot_id
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd

-- The catalogue (active flags, time zones) is read by every answer.
-- +goose StatementBegin
CREATE TRIGGER providers_availability_insert AFTER INSERT ON providers BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES ('*', (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER providers_availability_update AFTER UPDATE ON providers BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES ('*', (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER providers_availability_delete AFTER DELETE ON providers BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES ('*', (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER locations_availability_insert AFTER INSERT ON locations BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES ('*', (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER locations_availability_update AFTER UPDATE ON locations BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES ('*', (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER locations_availability_delete AFTER DELETE ON locations BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES ('*', (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consultation_types_availability_insert AFTER INSERT ON consultation_types BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES ('*', (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consultation_types_availability_update AFTER UPDATE ON consultation_types BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES ('*', (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consultation_types_availability_delete AFTER DELETE ON consultation_types BEGIN
    INSERT INTO availability_changes (scope, seq)
        VALUES ('*', (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes))
        ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq;
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
