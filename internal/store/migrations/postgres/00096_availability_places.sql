-- +goose Up
-- A write that only takes or frees places of a slot (a booking made,
-- cancelled, declined, expired or moved: the slot's booked count; a hold
-- placed or released) announces the slot's id as a third part of its scope,
-- "provider_id/day/slot_id", so that an instance caching availability
-- answers can patch that slot's places in them instead of dropping every
-- answer about that provider and day. Any other write to a slot announces
-- "provider_id/day" as before. An instance that knows only the two-part
-- form reads a three-part scope as one it cannot parse: it drops
-- everything, which is safe during a rolling upgrade.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION slots_availability_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.provider_id IS NOT DISTINCT FROM NEW.provider_id
            AND OLD.location_id IS NOT DISTINCT FROM NEW.location_id
            AND OLD.consultation_type_id IS NOT DISTINCT FROM NEW.consultation_type_id
            AND OLD.start_at IS NOT DISTINCT FROM NEW.start_at AND OLD.end_at IS NOT DISTINCT FROM NEW.end_at
            AND OLD.capacity IS NOT DISTINCT FROM NEW.capacity AND OLD.status IS NOT DISTINCT FROM NEW.status THEN
        PERFORM availability_changed(TG_TABLE_SCHEMA, NEW.provider_id || '/' || (NEW.start_at / 86400) || '/' || NEW.id);
        RETURN NULL;
    END IF;
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

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION slot_holds_availability_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    scope TEXT;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        SELECT s.provider_id || '/' || (s.start_at / 86400) || '/' || s.id INTO scope FROM slots s WHERE s.id = NEW.slot_id;
        IF scope IS NOT NULL THEN
            PERFORM availability_changed(TG_TABLE_SCHEMA, scope);
        END IF;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.slot_id IS DISTINCT FROM NEW.slot_id) THEN
        SELECT s.provider_id || '/' || (s.start_at / 86400) || '/' || s.id INTO scope FROM slots s WHERE s.id = OLD.slot_id;
        IF scope IS NOT NULL THEN
            PERFORM availability_changed(TG_TABLE_SCHEMA, scope);
        END IF;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION slot_holds_availability_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION slots_availability_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
