-- weir metadata store, version 3 (SQLite): jobs, their immutable versions, edit locks,
-- releases and production instance records. Keep in step with
-- ../postgres/0003_versions.sql: a test asserts both define the same tables and columns.

-- A release is a request of kind `release`, so the kind CHECK of `requests` must grow.
-- SQLite cannot alter a CHECK, and a migration runs inside one transaction with foreign
-- keys on, so the table is rebuilt the way that keeps every reference valid: renaming a
-- parent also renames the REFERENCES of its children, hence the children
-- (topic_publications, permission_requests, grants) are rebuilt too, pointing at the new
-- `requests`, before the old tables are dropped. Ids and AUTOINCREMENT counters are kept.

ALTER TABLE requests RENAME TO requests_v2;
DROP INDEX requests_state;
CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('topic_publish', 'permission', 'release')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn')),
    requester TEXT NOT NULL,
    project_id INTEGER REFERENCES projects (id),
    created_at TEXT NOT NULL,
    opinion TEXT,
    decided_by TEXT,
    decided_at TEXT
);
INSERT INTO requests (id, kind, state, requester, project_id, created_at, opinion, decided_by, decided_at)
    SELECT id, kind, state, requester, project_id, created_at, opinion, decided_by, decided_at
    FROM requests_v2;
CREATE INDEX requests_state ON requests (state, id);

ALTER TABLE topic_publications RENAME TO topic_publications_v2;
CREATE TABLE topic_publications (
    request_id INTEGER PRIMARY KEY REFERENCES requests (id),
    topic_id INTEGER NOT NULL REFERENCES topics (id),
    env TEXT NOT NULL CHECK (env IN ('test', 'prod')),
    datasource_id INTEGER NOT NULL REFERENCES data_sources (id)
);
INSERT INTO topic_publications (request_id, topic_id, env, datasource_id)
    SELECT request_id, topic_id, env, datasource_id FROM topic_publications_v2;
DROP TABLE topic_publications_v2;

ALTER TABLE permission_requests RENAME TO permission_requests_v2;
CREATE TABLE permission_requests (
    request_id INTEGER PRIMARY KEY REFERENCES requests (id),
    datasource_id INTEGER NOT NULL REFERENCES data_sources (id),
    table_name TEXT NOT NULL,
    grantee_kind TEXT NOT NULL CHECK (grantee_kind IN ('project', 'user')),
    project_id INTEGER REFERENCES projects (id),
    login TEXT,
    perms TEXT NOT NULL,
    columns TEXT NOT NULL,
    reason TEXT NOT NULL
);
INSERT INTO permission_requests (request_id, datasource_id, table_name, grantee_kind, project_id, login, perms, columns, reason)
    SELECT request_id, datasource_id, table_name, grantee_kind, project_id, login, perms, columns, reason
    FROM permission_requests_v2;
DROP TABLE permission_requests_v2;

ALTER TABLE grants RENAME TO grants_v2;
DROP INDEX grants_table;
CREATE TABLE grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    list TEXT NOT NULL CHECK (list IN ('whitelist', 'blacklist', 'public')),
    datasource_id INTEGER NOT NULL REFERENCES data_sources (id),
    table_name TEXT NOT NULL,
    grantee_kind TEXT NOT NULL CHECK (grantee_kind IN ('project', 'user', 'public')),
    project_id INTEGER REFERENCES projects (id),
    login TEXT,
    perms TEXT NOT NULL,
    columns TEXT NOT NULL,
    request_id INTEGER REFERENCES requests (id),
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL
);
INSERT INTO grants (id, list, datasource_id, table_name, grantee_kind, project_id, login, perms, columns, request_id, granted_by, granted_at)
    SELECT id, list, datasource_id, table_name, grantee_kind, project_id, login, perms, columns, request_id, granted_by, granted_at
    FROM grants_v2;
CREATE INDEX grants_table ON grants (datasource_id, table_name);
-- A revoked grant's id is never handed out again.
DELETE FROM sqlite_sequence WHERE name = 'grants';
INSERT INTO sqlite_sequence (name, seq) SELECT 'grants', seq FROM sqlite_sequence WHERE name = 'grants_v2';
DROP TABLE grants_v2;

DELETE FROM sqlite_sequence WHERE name = 'requests';
INSERT INTO sqlite_sequence (name, seq) SELECT 'requests', seq FROM sqlite_sequence WHERE name = 'requests_v2';
DROP TABLE requests_v2;

-- A job: its project and its path under jobs/ (`clickstream_pv` for
-- jobs/clickstream_pv.ron), shown as `project/path`. `updated_at` is touched first by
-- every write about the job, which serialises those writes on PostgreSQL (row lock).
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    path TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (project_id, path)
);

-- The edit lock: at most one holder per job.
CREATE TABLE job_locks (
    job_id INTEGER PRIMARY KEY REFERENCES jobs (id),
    holder TEXT NOT NULL,
    locked_at TEXT NOT NULL
);

-- Immutable versions (triggers below refuse UPDATE and DELETE).
CREATE TABLE job_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    number INTEGER NOT NULL CHECK (number >= 1),
    text TEXT NOT NULL,
    hash TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    message TEXT NOT NULL,
    validation_passed BOOLEAN NOT NULL,
    validation TEXT NOT NULL,
    test_seed INTEGER,
    test_passed BOOLEAN,
    test_report TEXT,
    UNIQUE (job_id, number)
);

CREATE TRIGGER job_versions_no_update BEFORE UPDATE ON job_versions
BEGIN
    SELECT RAISE(ABORT, 'job versions are immutable: UPDATE refused');
END;

CREATE TRIGGER job_versions_no_delete BEFORE DELETE ON job_versions
BEGIN
    SELECT RAISE(ABORT, 'job versions are immutable: DELETE refused');
END;

-- The detail of a request of kind `release`: the version proposed for production, bound
-- to its content hash. `state` follows the request (pending, approved, rejected,
-- withdrawn) and then go-live (live, offline, replaced).
CREATE TABLE releases (
    request_id INTEGER PRIMARY KEY REFERENCES requests (id),
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    version_id INTEGER NOT NULL REFERENCES job_versions (id),
    hash TEXT NOT NULL,
    note TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn', 'live', 'offline', 'replaced')),
    approved_hash TEXT,
    live_by TEXT,
    live_at TEXT,
    ended_by TEXT,
    ended_at TEXT
);
CREATE INDEX releases_job ON releases (job_id, state);
-- Only one release of a job is live at a time.
CREATE UNIQUE INDEX releases_one_live ON releases (job_id) WHERE state = 'live';

-- Instance records. Go-live creates one in state `created`; running instances is the
-- instances issue's, which adds states, so `state` has no CHECK list here.
CREATE TABLE instances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    version_id INTEGER NOT NULL REFERENCES job_versions (id),
    release_id INTEGER REFERENCES releases (request_id),
    env TEXT NOT NULL CHECK (env IN ('test', 'prod')),
    parallelism INTEGER NOT NULL CHECK (parallelism >= 1),
    memory_mib INTEGER NOT NULL CHECK (memory_mib >= 1),
    start_position TEXT NOT NULL CHECK (start_position IN ('latest', 'earliest', 'timestamp')),
    start_timestamp_ms INTEGER,
    params TEXT NOT NULL,
    state TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX instances_job ON instances (job_id);
