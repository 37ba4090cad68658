-- weir metadata store, version 9 (PostgreSQL): the last connectivity test of each data
-- source per environment (issue 17), so that a test run from the command line shows in
-- every workbench: ok or failed, what it said (what was checked, or the error; secrets
-- masked by the app), what it could not check, how long it took, when and by whom. A new
-- test replaces the row of its data source and environment; deleting the data source
-- deletes its rows. Keep in step with ../sqlite/0009_datasource_tests.sql. The rule
-- below is the Rust code's (crates/store/src/datasource_tests.rs).

CREATE TABLE data_source_tests (
    data_source_id BIGINT NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    env TEXT NOT NULL CHECK (env IN ('test', 'prod')),
    ok BOOLEAN NOT NULL,
    latency_ms BIGINT NOT NULL CHECK (latency_ms >= 0),
    message TEXT NOT NULL,
    not_checked TEXT,
    tested_by TEXT NOT NULL,
    tested_at TEXT NOT NULL,
    PRIMARY KEY (data_source_id, env)
);

-- Any registered user records the tests they ran, as tested by themselves, for the data
-- source and environment of the row; those who may delete data sources delete results
-- (a deleted data source takes its results along).
CREATE FUNCTION weir_rule_data_source_tests() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF weir_exempt(TG_RELID) THEN RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END; END IF;
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM weir_require(weir_has('data_admin') OR weir_has('system_admin'),
            'a data admin or a system admin', 'delete connectivity results');
        RETURN OLD;
    END IF;
    PERFORM weir_require(weir_registered(), 'a registered user', 'record connectivity tests');
    IF NEW.tested_by <> weir_me() OR (TG_OP = 'UPDATE'
        AND (NEW.data_source_id, NEW.env) IS DISTINCT FROM (OLD.data_source_id, OLD.env)) THEN
        PERFORM weir_refuse('a connectivity result is recorded as tested by you, for its own data source and environment',
            'use `weir datasource test`');
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER weir_rules BEFORE INSERT OR UPDATE OR DELETE ON data_source_tests
    FOR EACH ROW EXECUTE FUNCTION weir_rule_data_source_tests();

-- As in migration 6: the new function reads the store's schema, then pg_temp.
DO $$
DECLARE f REGPROCEDURE;
BEGIN
    FOR f IN SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.proname = 'weir_rule_data_source_tests' LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END
$$;
