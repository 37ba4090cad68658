-- Request history reads the audit rows of one object.
CREATE INDEX audit_object ON audit (object_kind, object_id);
