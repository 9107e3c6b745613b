-- The contact-point directory (OSCE CBM 8, Budapest Convention 24/7, sector and CERT contact
-- points), CERT teams' RFC 2350 profiles, and communication-check campaigns with their targets
-- and the hashes of the one-time links sent. Identifiers are UUIDs as text; timestamps are unix
-- microseconds (UTC).

CREATE TABLE contact_points (
    id         TEXT PRIMARY KEY NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    email      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,              -- JSON of neretva_governance::contact_points::ContactPoint
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX contact_points_org ON contact_points (org_id, kind, email);

CREATE TABLE team_profiles (
    org_id     TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,              -- JSON of neretva_governance::rfc2350::TeamProfile
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE check_campaigns (
    id         TEXT PRIMARY KEY NOT NULL,
    body       TEXT NOT NULL,              -- JSON of neretva_governance::checks::Campaign
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    deadline   INTEGER NOT NULL
) STRICT;

-- One row per contact point a campaign reaches: a snapshot of the point and what happened.
CREATE TABLE check_targets (
    campaign_id     TEXT NOT NULL REFERENCES check_campaigns (id) ON DELETE CASCADE,
    point_id        TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    language        TEXT NOT NULL,
    sent_at         INTEGER,
    send_failed     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    reminded_at     INTEGER,
    escalated_at    INTEGER,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    acknowledged_via TEXT,
    user_agent      TEXT,
    PRIMARY KEY (campaign_id, point_id)
) STRICT;

-- The links sent, by the SHA-256 of their token; the token itself is never stored.
CREATE TABLE check_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    campaign_id TEXT NOT NULL,
    point_id    TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    FOREIGN KEY (campaign_id, point_id) REFERENCES check_targets (campaign_id, point_id) ON DELETE CASCADE
) STRICT;
