-- tenantlink schema, PostgreSQL dialect. Same tables and columns as the
-- SQLite set; times are timestamptz. JSON documents are text, not jsonb,
-- so both backends return the exact bytes they were given.
-- *_lower columns hold the Go-lowercased value so both backends agree on
-- what "case-insensitive" means.

CREATE TABLE users (
    id                text PRIMARY KEY,
    email             text NOT NULL,
    email_lower       text NOT NULL,
    display_name      text NOT NULL DEFAULT '',
    display_lower     text NOT NULL DEFAULT '',
    given_name        text NOT NULL DEFAULT '',
    surname           text NOT NULL DEFAULT '',
    job_title         text NOT NULL DEFAULT '',
    department        text NOT NULL DEFAULT '',
    active            boolean NOT NULL DEFAULT true,
    roles             text NOT NULL DEFAULT '[]',
    source_datasource text,
    source_object_id  text,
    password_hash     text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_lower ON users (email_lower);
CREATE UNIQUE INDEX users_source ON users (source_datasource, source_object_id);

CREATE TABLE groups (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    name_lower text NOT NULL,
    roles      text NOT NULL DEFAULT '[]',
    sync       text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX groups_name_lower ON groups (name_lower);

CREATE TABLE group_members (
    group_id text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position integer NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE datasources (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    name_lower     text NOT NULL,
    type           text NOT NULL,
    status         text NOT NULL,
    status_message text NOT NULL DEFAULT '',
    settings       text NOT NULL DEFAULT '{}',
    security       text NOT NULL DEFAULT '{}',
    created        timestamptz NOT NULL,
    modified       timestamptz NOT NULL,
    modified_by    text NOT NULL DEFAULT '',
    authorized_by  text NOT NULL DEFAULT '',
    authorized_at  timestamptz,
    reauthorize_by timestamptz,
    account        text NOT NULL DEFAULT '',
    granted_scopes text NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX datasources_name_lower ON datasources (name_lower);

-- secret is a secrets.Keyring blob sealed with associated data
-- 'credential:<datasource_id>'; kid names its key for re-encryption.
CREATE TABLE credentials (
    datasource_id text PRIMARY KEY REFERENCES datasources (id) ON DELETE CASCADE,
    kid           text NOT NULL,
    secret        bytea NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- verifier is sealed with associated data 'oauth_state:<state>'.
CREATE TABLE oauth_states (
    state         text PRIMARY KEY,
    purpose       text NOT NULL,
    datasource_id text NOT NULL DEFAULT '',
    user_id       text NOT NULL DEFAULT '',
    nonce         text NOT NULL DEFAULT '',
    kid           text NOT NULL,
    verifier      bytea NOT NULL,
    return_to     text NOT NULL DEFAULT '',
    expires_at    timestamptz NOT NULL
);
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);

CREATE TABLE sessions (
    id_hash    text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id         text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL,
    hash       text NOT NULL,
    prefix     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    last_used  timestamptz
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text NOT NULL DEFAULT '',
    action  text NOT NULL,
    target  text NOT NULL DEFAULT '',
    outcome text NOT NULL DEFAULT '',
    detail  text NOT NULL DEFAULT ''
);
CREATE INDEX audit_target ON audit (target, id);

-- The audit log is evidence: refuse to rewrite history even by mistake.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only';
END;
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

CREATE TABLE settings (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL
);
