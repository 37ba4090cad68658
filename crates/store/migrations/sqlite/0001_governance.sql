-- weir metadata store, version 1 (SQLite). Keep in step with ../postgres/0001_governance.sql:
-- a test asserts both define the same tables and columns.

CREATE TABLE bootstrap (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    login TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE TABLE users (
    login TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE user_roles (
    login TEXT NOT NULL REFERENCES users (login),
    role TEXT NOT NULL CHECK (role IN ('system_admin', 'data_admin', 'ops', 'business')),
    PRIMARY KEY (login, role)
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    archived_by TEXT,
    archived_at TEXT
);

CREATE TABLE project_members (
    project_id INTEGER NOT NULL REFERENCES projects (id),
    login TEXT NOT NULL REFERENCES users (login),
    role TEXT NOT NULL CHECK (role IN ('project_admin', 'developer')),
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (project_id, login)
);

CREATE TABLE data_sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    env TEXT NOT NULL CHECK (env IN ('test', 'prod', 'both')),
    test_address TEXT,
    test_options TEXT NOT NULL,
    prod_address TEXT,
    prod_options TEXT NOT NULL,
    username TEXT,
    password_ref TEXT,
    managed BOOLEAN NOT NULL DEFAULT FALSE,
    owner_project_id INTEGER REFERENCES projects (id),
    description TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE topics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    display_name TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('json', 'csv')),
    partitions INTEGER NOT NULL CHECK (partitions >= 1),
    lifecycle_days INTEGER NOT NULL CHECK (lifecycle_days >= 1),
    description TEXT NOT NULL,
    fields TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('design', 'pending_test', 'test', 'pending_prod', 'prod')),
    test_datasource_id INTEGER REFERENCES data_sources (id),
    prod_datasource_id INTEGER REFERENCES data_sources (id),
    last_opinion TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('topic_publish', 'permission')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn')),
    requester TEXT NOT NULL,
    project_id INTEGER REFERENCES projects (id),
    created_at TEXT NOT NULL,
    opinion TEXT,
    decided_by TEXT,
    decided_at TEXT
);
CREATE INDEX requests_state ON requests (state, id);

CREATE TABLE topic_publications (
    request_id INTEGER PRIMARY KEY REFERENCES requests (id),
    topic_id INTEGER NOT NULL REFERENCES topics (id),
    env TEXT NOT NULL CHECK (env IN ('test', 'prod')),
    datasource_id INTEGER NOT NULL REFERENCES data_sources (id)
);

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
CREATE INDEX grants_table ON grants (datasource_id, table_name);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only: DELETE refused');
END;
