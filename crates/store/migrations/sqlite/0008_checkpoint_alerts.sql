-- weir metadata store, version 8 (SQLite): alert rules and alerts may be of kind
-- `checkpoint_failed` (a checkpoint of the instance failed or was aborted; it clears when
-- one completes). Keep in step with ../postgres/0008_checkpoint_alerts.sql.
--
-- SQLite cannot change a CHECK, so both tables are rebuilt with the same columns: the
-- new ones are filled, the old ones dropped (alerts first: it references alert_rules),
-- and the new ones renamed (the rename carries alerts' reference along). Ids and the
-- AUTOINCREMENT counters are kept.

CREATE TABLE alert_rules_v8 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER REFERENCES jobs (id),
    instance_id INTEGER REFERENCES instances (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('lag', 'error_rate', 'no_output', 'watermark_delay', 'failed', 'checkpoint_failed')),
    above REAL NOT NULL,
    for_secs INTEGER NOT NULL CHECK (for_secs >= 0),
    webhook TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK ((job_id IS NULL) <> (instance_id IS NULL))
);
INSERT INTO alert_rules_v8 (id, job_id, instance_id, kind, above, for_secs, webhook, created_by, created_at)
    SELECT id, job_id, instance_id, kind, above, for_secs, webhook, created_by, created_at FROM alert_rules;

CREATE TABLE alerts_v8 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    rule_id INTEGER REFERENCES alert_rules_v8 (id) ON DELETE SET NULL,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('lag', 'error_rate', 'no_output', 'watermark_delay', 'failed', 'checkpoint_failed')),
    state TEXT NOT NULL CHECK (state IN ('firing', 'cleared')),
    value REAL,
    message TEXT NOT NULL,
    fired_at TEXT NOT NULL,
    cleared_at TEXT,
    CHECK ((state = 'firing') = (cleared_at IS NULL))
);
INSERT INTO alerts_v8 (id, instance_id, rule_id, rule, kind, state, value, message, fired_at, cleared_at)
    SELECT id, instance_id, rule_id, rule, kind, state, value, message, fired_at, cleared_at FROM alerts;

-- the counters go with the new tables (a dropped table's row leaves sqlite_sequence,
-- a renamed one's follows the rename)
DELETE FROM sqlite_sequence WHERE name IN ('alert_rules_v8', 'alerts_v8');
INSERT INTO sqlite_sequence (name, seq) SELECT 'alert_rules_v8', seq FROM sqlite_sequence WHERE name = 'alert_rules';
INSERT INTO sqlite_sequence (name, seq) SELECT 'alerts_v8', seq FROM sqlite_sequence WHERE name = 'alerts';
DROP TABLE alerts;
DROP TABLE alert_rules;
ALTER TABLE alert_rules_v8 RENAME TO alert_rules;
ALTER TABLE alerts_v8 RENAME TO alerts;
CREATE INDEX alert_rules_job ON alert_rules (job_id);
CREATE INDEX alert_rules_instance ON alert_rules (instance_id);
CREATE UNIQUE INDEX alerts_one_firing ON alerts (instance_id, rule) WHERE state = 'firing';
CREATE INDEX alerts_state ON alerts (state);
