-- weir metadata store, version 5 (SQLite): monitoring. Keep in step with
-- ../postgres/0005_monitoring.sql: a test asserts both define the same tables and columns.
--
-- `instance_metrics` and `instance_logs` are written every second by workers and are
-- not audited (so they do not wake the change feed); the worker prunes them (metrics
-- older than its window, logs beyond the last 2000 lines of an instance). Alert rules
-- and alerts are audited like every other write, which is what the change feed reports.
--
-- These tables reference `instances`: a future migration that rebuilds `instances`
-- with `ALTER TABLE ... RENAME` (as 0004 did) must rebuild these children too, since
-- SQLite renames their REFERENCES along with the parent.

-- One-second metric snapshots of an instance (JSON), one row per instance and time.
CREATE TABLE instance_metrics (
    instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    snapshot TEXT NOT NULL,
    PRIMARY KEY (instance_id, at_ms)
);
CREATE INDEX instance_metrics_at ON instance_metrics (at_ms);

-- Log lines of an instance, as its worker reports them.
CREATE TABLE instance_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message TEXT NOT NULL
);
CREATE INDEX instance_logs_instance ON instance_logs (instance_id, id);

-- Alert rules, of a job (every instance of it) or of one instance.
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER REFERENCES jobs (id),
    instance_id INTEGER REFERENCES instances (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('lag', 'error_rate', 'no_output', 'watermark_delay', 'failed')),
    above REAL NOT NULL,
    for_secs INTEGER NOT NULL CHECK (for_secs >= 0),
    webhook TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK ((job_id IS NULL) <> (instance_id IS NULL))
);
CREATE INDEX alert_rules_job ON alert_rules (job_id);
CREATE INDEX alert_rules_instance ON alert_rules (instance_id);

-- Alerts that fired (and maybe cleared). `rule` is the rule's one-line description, so
-- an alert keeps its meaning after its rule is removed (`rule_id` then NULL).
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    rule_id INTEGER REFERENCES alert_rules (id) ON DELETE SET NULL,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('lag', 'error_rate', 'no_output', 'watermark_delay', 'failed')),
    state TEXT NOT NULL CHECK (state IN ('firing', 'cleared')),
    value REAL,
    message TEXT NOT NULL,
    fired_at TEXT NOT NULL,
    cleared_at TEXT,
    CHECK ((state = 'firing') = (cleared_at IS NULL))
);
-- At most one firing alert per instance and rule text (firing is idempotent).
CREATE UNIQUE INDEX alerts_one_firing ON alerts (instance_id, rule) WHERE state = 'firing';
CREATE INDEX alerts_state ON alerts (state);
