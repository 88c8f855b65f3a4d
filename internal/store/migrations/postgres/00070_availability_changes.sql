-- +goose Up
-- Every write that may change what availability answers announces it on
-- the channel clinic_availability, with the schema of the table written and
-- the scope of the change as the payload ("schema scope"). A scope is a
-- provider's slots starting on one UTC day ("provider_id/day", day =
-- start_at / 86400), a provider as a whole ("provider_id", for explicit
-- invalidations), or '*' for everything: the catalogue (active flags, time
-- zones), which every answer reads, and a transaction with too many scopes
-- to list. (The channel is shared by every schema of the database; a
-- listener ignores the others'.) The triggers below do it in the writing
-- transaction, so the notification is delivered at commit, and only then,
-- whatever wrote (this server, another instance, a maintenance script).
-- They also collect the transaction's scopes in the transaction-local
-- setting clinic.availability_scopes (space-separated), which the writing
-- instance reads before it commits to move its own versions at once. A
-- scope is announced once a transaction.
-- +goose StatementBegin
CREATE FUNCTION availability_changed(schema_name TEXT, scope TEXT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    seen TEXT := ' ' || coalesce(current_setting('clinic.availability_scopes', true), '');
BEGIN
    IF position(' * ' IN seen) > 0 OR position(' ' || scope || ' ' IN seen) > 0 THEN
        RETURN;
    END IF;
    IF length(seen) > 4000 THEN
        -- Enough to list (a generated schedule, say): everything, once.
        scope := '*';
    END IF;
    PERFORM set_config('clinic.availability_scopes', ltrim(seen) || scope || ' ', true);
    PERFORM pg_notify('clinic_availability', schema_name || ' ' || scope);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION slots_availability_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM availability_changed(TG_TABLE_SCHEMA, NEW.provider_id || '/' || (NEW.start_at / 86400));
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.provider_id IS DISTINCT FROM NEW.provider_id
            OR OLD.start_at / 86400 IS DISTINCT FROM NEW.start_at / 86400)) THEN
        PERFORM availability_changed(TG_TABLE_SCHEMA, OLD.provider_id || '/' || (OLD.start_at / 86400));
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER slots_availability AFTER INSERT OR UPDATE OR DELETE ON slots
    FOR EACH ROW EXECUTE FUNCTION slots_availability_changed();

-- A hold counts for its slot. A hold whose slot is gone was deleted with
-- it, and the slot's own trigger counted that.
-- +goose StatementBegin
CREATE FUNCTION slot_holds_availability_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    scope TEXT;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        SELECT s.provider_id || '/' || (s.start_at / 86400) INTO scope FROM slots s WHERE s.id = NEW.slot_id;
        IF scope IS NOT NULL THEN
            PERFORM availability_changed(TG_TABLE_SCHEMA, scope);
        END IF;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.slot_id IS DISTINCT FROM NEW.slot_id) THEN
        SELECT s.provider_id || '/' || (s.start_at / 86400) INTO scope FROM slots s WHERE s.id = OLD.slot_id;
        IF scope IS NOT NULL THEN
            PERFORM availability_changed(TG_TABLE_SCHEMA, scope);
        END IF;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER slot_holds_availability AFTER INSERT OR UPDATE OR DELETE ON slot_holds
    FOR EACH ROW EXECUTE FUNCTION slot_holds_availability_changed();

-- +goose StatementBegin
CREATE FUNCTION catalogue_availability_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM availability_changed(TG_TABLE_SCHEMA, '*');
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER providers_availability AFTER INSERT OR UPDATE OR DELETE ON providers
    FOR EACH STATEMENT EXECUTE FUNCTION catalogue_availability_changed();
CREATE TRIGGER locations_availability AFTER INSERT OR UPDATE OR DELETE ON locations
    FOR EACH STATEMENT EXECUTE FUNCTION catalogue_availability_changed();
CREATE TRIGGER consultation_types_availability AFTER INSERT OR UPDATE OR DELETE ON consultation_types
    FOR EACH STATEMENT EXECUTE FUNCTION catalogue_availability_changed();

-- +goose Down
DROP TRIGGER consultation_types_availability ON consultation_types;
DROP TRIGGER locations_availability ON locations;
DROP TRIGGER providers_availability ON providers;
DROP FUNCTION catalogue_availability_changed();
DROP TRIGGER slot_holds_availability ON slot_holds;
DROP FUNCTION slot_holds_availability_changed();
DROP TRIGGER slots_availability ON slots;
DROP FUNCTION slots_availability_changed();
DROP FUNCTION availability_changed(TEXT, TEXT);
