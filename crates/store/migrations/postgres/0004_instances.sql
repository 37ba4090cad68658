-- weir metadata store, version 4 (PostgreSQL): running instances and the workers that
-- run them. Keep in step with ../sqlite/0004_instances.sql: a test asserts both define
-- the same tables and columns.
--
-- `instances` gains its run state (CHECK list), the desired state, the worker holding it
-- and its heartbeat, start and stop times, the error of a failed run, and test instances
-- of a working file (`source_path`, `text`, `text_hash`; `version_id` NULL).

ALTER TABLE instances ALTER COLUMN version_id DROP NOT NULL;
ALTER TABLE instances ADD CONSTRAINT instances_state_check
    CHECK (state IN ('created', 'starting', 'running', 'stopping', 'stopped', 'failed'));
ALTER TABLE instances ADD COLUMN desired TEXT NOT NULL DEFAULT 'running'
    CHECK (desired IN ('running', 'stopped'));
ALTER TABLE instances ADD COLUMN worker TEXT;
ALTER TABLE instances ADD COLUMN heartbeat_at TEXT;
ALTER TABLE instances ADD COLUMN started_at TEXT;
ALTER TABLE instances ADD COLUMN stopped_at TEXT;
ALTER TABLE instances ADD COLUMN error TEXT;
ALTER TABLE instances ADD COLUMN source_path TEXT;
ALTER TABLE instances ADD COLUMN text TEXT;
ALTER TABLE instances ADD COLUMN text_hash TEXT;
-- A version, or (test instances only) a working file's snapshot.
ALTER TABLE instances ADD CONSTRAINT instances_source_check
    CHECK ((version_id IS NOT NULL AND text IS NULL)
        OR (version_id IS NULL AND text IS NOT NULL AND source_path IS NOT NULL AND env = 'test'));
-- A failed instance says why.
ALTER TABLE instances ADD CONSTRAINT instances_failed_check
    CHECK (state <> 'failed' OR error IS NOT NULL);
-- Claiming looks for instances that want to run and are not (or no longer) held.
CREATE INDEX instances_claim ON instances (desired, state);
CREATE INDEX instances_worker ON instances (worker);

-- A worker process: its id (chosen by the worker), the login it acts as, where it runs,
-- how many instances it takes, and its heartbeat. `stopping` asks it to stop.
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL CHECK (pid >= 0),
    slots BIGINT NOT NULL CHECK (slots >= 1),
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    stopping BOOLEAN NOT NULL DEFAULT FALSE
);
