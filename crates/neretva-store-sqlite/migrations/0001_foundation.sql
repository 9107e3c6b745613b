-- The constituency registry, users and credentials, and the audit chain.
-- Identifiers are UUIDs as text; timestamps are unix microseconds (UTC).

CREATE TABLE organisations (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    short_name      TEXT NOT NULL,
    short_name_key  TEXT NOT NULL,
    address         TEXT,
    country         TEXT NOT NULL,
    sector          TEXT,
    subsector       TEXT,
    entity_type     TEXT NOT NULL,
    authority_level TEXT NOT NULL,
    parent_id       TEXT REFERENCES organisations (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CONSTRAINT organisations_name_key UNIQUE (name_key),
    CONSTRAINT organisations_short_name_key UNIQUE (short_name_key)
) STRICT;

CREATE INDEX organisations_parent_idx ON organisations (parent_id);

CREATE TABLE contacts (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    role            TEXT,
    email           TEXT NOT NULL,
    phone           TEXT,
    languages       TEXT NOT NULL DEFAULT '[]',
    pgp_key         TEXT,
    pgp_fingerprint TEXT,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX contacts_org_idx ON contacts (org_id, name);
CREATE INDEX contacts_email_idx ON contacts (email);

CREATE TABLE assets (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    description TEXT,
    created_at  INTEGER NOT NULL,
    CONSTRAINT assets_org_kind_value_key UNIQUE (org_id, kind, value)
) STRICT;

CREATE INDEX assets_value_idx ON assets (kind, value);

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    username      TEXT NOT NULL,
    display_name  TEXT,
    email         TEXT,
    role          TEXT NOT NULL,
    language      TEXT,
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER,
    last_login_at INTEGER,
    created_at    INTEGER NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username)
) STRICT;

CREATE INDEX users_org_idx ON users (org_id);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
) STRICT;

CREATE INDEX tokens_user_idx ON tokens (user_id);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expiry_idx ON sessions (expires_at);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
) STRICT;

CREATE INDEX audit_log_actor_idx ON audit_log (actor, seq);
CREATE INDEX audit_log_action_idx ON audit_log (action, seq);
CREATE INDEX audit_log_object_idx ON audit_log (object_id, seq);

-- The newest entry of the chain, kept apart so that removing the newest entries is detected.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
