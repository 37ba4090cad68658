-- weir metadata store, version 9 (SQLite): the last connectivity test of each data source
-- per environment (issue 17), so that a test run from the command line shows in every
-- workbench: ok or failed, what it said (what was checked, or the error; secrets masked
-- by the app), what it could not check, how long it took, when and by whom. A new test
-- replaces the row of its data source and environment; deleting the data source deletes
-- its rows. Keep in step with ../postgres/0009_datasource_tests.sql: a test asserts both
-- define the same tables and columns.

CREATE TABLE data_source_tests (
    data_source_id INTEGER NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    env TEXT NOT NULL CHECK (env IN ('test', 'prod')),
    ok BOOLEAN NOT NULL,
    latency_ms INTEGER NOT NULL CHECK (latency_ms >= 0),
    message TEXT NOT NULL,
    not_checked TEXT,
    tested_by TEXT NOT NULL,
    tested_at TEXT NOT NULL,
    PRIMARY KEY (data_source_id, env)
);
