-- Request history reads the audit rows of one object.
CREATE INDEX audit_object ON audit (object_kind, object_id);

-- Every write appends an audit row in its own transaction, so a notification per audit
-- row tells listening workbenches that something changed; it is delivered on commit
-- only (a rolled-back write notifies nobody). The payload is the audit id.
CREATE FUNCTION weir_audit_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('weir_changes', NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER audit_notify AFTER INSERT ON audit
    FOR EACH ROW EXECUTE FUNCTION weir_audit_notify();
