-- weir metadata store, version 4 (SQLite): running instances and the workers that run
-- them. Keep in step with ../postgres/0004_instances.sql: a test asserts both define the
-- same tables and columns.
--
-- `instances` gains its run state (CHECK list), the desired state, the worker holding it
-- and its heartbeat, start and stop times, the error of a failed run, and test instances
-- of a working file (`source_path`, `text`, `text_hash`; `version_id` NULL). SQLite
-- cannot drop a NOT NULL or add a CHECK, so the table is rebuilt: nothing references
-- `instances`, so a plain copy keeps every row, id and the AUTOINCREMENT counter.

ALTER TABLE instances RENAME TO instances_v3;
DROP INDEX instances_job;
CREATE TABLE instances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    version_id INTEGER REFERENCES job_versions (id),
    release_id INTEGER REFERENCES releases (request_id),
    env TEXT NOT NULL CHECK (env IN ('test', 'prod')),
    parallelism INTEGER NOT NULL CHECK (parallelism >= 1),
    memory_mib INTEGER NOT NULL CHECK (memory_mib >= 1),
    start_position TEXT NOT NULL CHECK (start_position IN ('latest', 'earliest', 'timestamp')),
    start_timestamp_ms INTEGER,
    params TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('created', 'starting', 'running', 'stopping', 'stopped', 'failed')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    desired TEXT NOT NULL DEFAULT 'running' CHECK (desired IN ('running', 'stopped')),
    worker TEXT,
    heartbeat_at TEXT,
    started_at TEXT,
    stopped_at TEXT,
    error TEXT,
    source_path TEXT,
    text TEXT,
    text_hash TEXT,
    -- A version, or (test instances only) a working file's snapshot.
    CHECK ((version_id IS NOT NULL AND text IS NULL)
        OR (version_id IS NULL AND text IS NOT NULL AND source_path IS NOT NULL AND env = 'test')),
    -- A failed instance says why.
    CHECK (state <> 'failed' OR error IS NOT NULL)
);
INSERT INTO instances (id, job_id, version_id, release_id, env, parallelism, memory_mib,
    start_position, start_timestamp_ms, params, state, created_by, created_at)
    SELECT id, job_id, version_id, release_id, env, parallelism, memory_mib,
        start_position, start_timestamp_ms, params, state, created_by, created_at
    FROM instances_v3;
DELETE FROM sqlite_sequence WHERE name = 'instances';
INSERT INTO sqlite_sequence (name, seq) SELECT 'instances', seq FROM sqlite_sequence WHERE name = 'instances_v3';
DROP TABLE instances_v3;
CREATE INDEX instances_job ON instances (job_id);
-- Claiming looks for instances that want to run and are not (or no longer) held.
CREATE INDEX instances_claim ON instances (desired, state);
CREATE INDEX instances_worker ON instances (worker);

-- A worker process: its id (chosen by the worker), the login it acts as, where it runs,
-- how many instances it takes, and its heartbeat. `stopping` asks it to stop.
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL CHECK (pid >= 0),
    slots INTEGER NOT NULL CHECK (slots >= 1),
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    stopping BOOLEAN NOT NULL DEFAULT FALSE
);
