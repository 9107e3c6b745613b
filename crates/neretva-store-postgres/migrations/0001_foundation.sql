-- The constituency registry, users and credentials, and the audit chain.

CREATE TABLE organisations (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    name_key        text NOT NULL,
    short_name      text NOT NULL,
    short_name_key  text NOT NULL,
    address         text,
    country         text NOT NULL,
    sector          text,
    subsector       text,
    entity_type     text NOT NULL,
    authority_level text NOT NULL,
    parent_id       uuid CONSTRAINT organisations_parent_fkey REFERENCES organisations (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT organisations_name_key UNIQUE (name_key),
    CONSTRAINT organisations_short_name_key UNIQUE (short_name_key)
);

CREATE INDEX organisations_parent_idx ON organisations (parent_id);

CREATE TABLE contacts (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL CONSTRAINT contacts_org_fkey
                        REFERENCES organisations (id) ON DELETE CASCADE,
    name            text NOT NULL,
    role            text,
    email           text NOT NULL,
    phone           text,
    languages       text[] NOT NULL DEFAULT '{}',
    pgp_key         text,
    pgp_fingerprint text,
    created_at      timestamptz NOT NULL
);

CREATE INDEX contacts_org_idx ON contacts (org_id, name);
CREATE INDEX contacts_email_idx ON contacts (email);

CREATE TABLE assets (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL CONSTRAINT assets_org_fkey
                    REFERENCES organisations (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    value       text NOT NULL,
    description text,
    created_at  timestamptz NOT NULL,
    CONSTRAINT assets_org_kind_value_key UNIQUE (org_id, kind, value)
);

CREATE INDEX assets_value_idx ON assets (kind, value);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL CONSTRAINT users_org_fkey REFERENCES organisations (id),
    username      text NOT NULL,
    display_name  text,
    email         text,
    role          text NOT NULL,
    language      text,
    password_hash text,
    disabled      boolean NOT NULL DEFAULT false,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username)
);

CREATE INDEX users_org_idx ON users (org_id);

CREATE TABLE tokens (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL CONSTRAINT tokens_user_fkey REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    scope        text NOT NULL,
    secret_hash  text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

CREATE INDEX tokens_user_idx ON tokens (user_id);

CREATE TABLE sessions (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL CONSTRAINT sessions_user_fkey REFERENCES users (id) ON DELETE CASCADE,
    secret_hash text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expiry_idx ON sessions (expires_at);

CREATE TABLE audit_log (
    seq         bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text NOT NULL,
    digest      text NOT NULL,
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);

CREATE INDEX audit_log_actor_idx ON audit_log (actor, seq);
CREATE INDEX audit_log_action_idx ON audit_log (action, seq);
CREATE INDEX audit_log_object_idx ON audit_log (object_id, seq);

-- The newest entry of the chain, kept apart so that removing the newest entries is detected.
-- Appenders lock this row, so concurrent writers from several processes keep one chain.
CREATE TABLE audit_head (
    id   smallint PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
