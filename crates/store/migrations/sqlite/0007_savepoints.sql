-- weir metadata store, version 7 (SQLite): savepoints (issue 16). Keep in step with
-- ../postgres/0007_savepoints.sql: a test asserts both define the same tables and columns.
--
-- `savepoints`: a savepoint an instance's worker took, kept on disk under `path` (the
-- directory `sp-<checkpoint_id>` of the instance's checkpoints) until it is deleted.
-- `text_hash` is the sha256 of the job text that ran, as the savepoint's manifest has it.
-- `savepoint_requests`: what `weir instance savepoint` and `stop --savepoint` ask of the
-- worker running the instance; it takes the savepoint within a second, records it and
-- marks the request done (with the savepoint) or failed (with the error).
-- `instances.start_savepoint_id`: the savepoint an instance was started from (`weir
-- instance start JOB@N --from savepoint:SP`); no foreign key, so that deleting a
-- savepoint leaves the record of where an instance came from.

CREATE TABLE savepoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id INTEGER NOT NULL REFERENCES instances (id),
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    text_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    checkpoint_id INTEGER NOT NULL CHECK (checkpoint_id >= 1),
    size INTEGER NOT NULL CHECK (size >= 0),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX savepoints_job ON savepoints (job_id);
CREATE INDEX savepoints_instance ON savepoints (instance_id);

CREATE TABLE savepoint_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id INTEGER NOT NULL REFERENCES instances (id),
    stop BOOLEAN NOT NULL DEFAULT FALSE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    savepoint_id INTEGER,
    error TEXT,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    done_at TEXT,
    CHECK ((state = 'pending') = (done_at IS NULL)),
    CHECK (state <> 'done' OR savepoint_id IS NOT NULL),
    CHECK (state <> 'failed' OR error IS NOT NULL)
);
CREATE INDEX savepoint_requests_pending ON savepoint_requests (instance_id, state);

ALTER TABLE instances ADD COLUMN start_savepoint_id INTEGER;
