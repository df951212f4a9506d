-- tenantlink schema, SQLite dialect. Times are INTEGER unix microseconds
-- (UTC), booleans INTEGER 0/1, JSON documents TEXT. *_lower columns hold the
-- Go-lowercased value: SQLite's lower() only folds ASCII, and both backends
-- must agree on what "case-insensitive" means.

CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL,
    email_lower       TEXT NOT NULL,
    display_name      TEXT NOT NULL DEFAULT '',
    display_lower     TEXT NOT NULL DEFAULT '',
    given_name        TEXT NOT NULL DEFAULT '',
    surname           TEXT NOT NULL DEFAULT '',
    job_title         TEXT NOT NULL DEFAULT '',
    department        TEXT NOT NULL DEFAULT '',
    active            INTEGER NOT NULL DEFAULT 1,
    roles             TEXT NOT NULL DEFAULT '[]',
    source_datasource TEXT,
    source_object_id  TEXT,
    password_hash     TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email_lower ON users (email_lower);
CREATE UNIQUE INDEX users_source ON users (source_datasource, source_object_id);

CREATE TABLE groups (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    roles      TEXT NOT NULL DEFAULT '[]',
    sync       TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX groups_name_lower ON groups (name_lower);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE datasources (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    name_lower     TEXT NOT NULL,
    type           TEXT NOT NULL,
    status         TEXT NOT NULL,
    status_message TEXT NOT NULL DEFAULT '',
    settings       TEXT NOT NULL DEFAULT '{}',
    security       TEXT NOT NULL DEFAULT '{}',
    created        INTEGER NOT NULL,
    modified       INTEGER NOT NULL,
    modified_by    TEXT NOT NULL DEFAULT '',
    authorized_by  TEXT NOT NULL DEFAULT '',
    authorized_at  INTEGER,
    reauthorize_by INTEGER,
    account        TEXT NOT NULL DEFAULT '',
    granted_scopes TEXT NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX datasources_name_lower ON datasources (name_lower);

-- secret is a secrets.Keyring blob sealed with associated data
-- "credential:<datasource_id>"; kid names its key for re-encryption.
CREATE TABLE credentials (
    datasource_id TEXT PRIMARY KEY REFERENCES datasources (id) ON DELETE CASCADE,
    kid           TEXT NOT NULL,
    secret        BLOB NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- verifier is sealed with associated data "oauth_state:<state>".
CREATE TABLE oauth_states (
    state         TEXT PRIMARY KEY,
    purpose       TEXT NOT NULL,
    datasource_id TEXT NOT NULL DEFAULT '',
    user_id       TEXT NOT NULL DEFAULT '',
    nonce         TEXT NOT NULL DEFAULT '',
    kid           TEXT NOT NULL,
    verifier      BLOB NOT NULL,
    return_to     TEXT NOT NULL DEFAULT '',
    expires_at    INTEGER NOT NULL
);
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL,
    prefix     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    last_used  INTEGER
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL DEFAULT '',
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_target ON audit (target, id);

-- The audit log is evidence: refuse to rewrite history even by mistake.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
