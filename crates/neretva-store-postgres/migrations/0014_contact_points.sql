-- The contact-point directory (OSCE CBM 8, Budapest Convention 24/7, sector and CERT contact
-- points), CERT teams' RFC 2350 profiles, and communication-check campaigns with their targets
-- and the hashes of the one-time links sent.

CREATE TABLE contact_points (
    id         uuid PRIMARY KEY,
    org_id     uuid NOT NULL CONSTRAINT contact_points_org_fkey REFERENCES organisations (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    email      text NOT NULL,
    version    bigint NOT NULL,
    body       text NOT NULL,              -- JSON of neretva_governance::contact_points::ContactPoint
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX contact_points_org ON contact_points (org_id, kind, email);

CREATE TABLE team_profiles (
    org_id     uuid PRIMARY KEY CONSTRAINT team_profiles_org_fkey REFERENCES organisations (id) ON DELETE CASCADE,
    body       text NOT NULL,              -- JSON of neretva_governance::rfc2350::TeamProfile
    updated_at timestamptz NOT NULL
);

CREATE TABLE check_campaigns (
    id         uuid PRIMARY KEY,
    body       text NOT NULL,              -- JSON of neretva_governance::checks::Campaign
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    deadline   timestamptz NOT NULL
);

-- One row per contact point a campaign reaches: a snapshot of the point and what happened.
CREATE TABLE check_targets (
    campaign_id      uuid NOT NULL REFERENCES check_campaigns (id) ON DELETE CASCADE,
    point_id         uuid NOT NULL,
    org_id           uuid NOT NULL,
    kind             text NOT NULL,
    name             text NOT NULL,
    email            text NOT NULL,
    language         text NOT NULL,
    sent_at          timestamptz,
    send_failed      boolean NOT NULL DEFAULT false,
    last_error       text,
    reminded_at      timestamptz,
    escalated_at     timestamptz,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    acknowledged_via text,
    user_agent       text,
    PRIMARY KEY (campaign_id, point_id)
);

-- The links sent, by the SHA-256 of their token; the token itself is never stored.
CREATE TABLE check_tokens (
    token_hash  text PRIMARY KEY,
    campaign_id uuid NOT NULL,
    point_id    uuid NOT NULL,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    FOREIGN KEY (campaign_id, point_id) REFERENCES check_targets (campaign_id, point_id) ON DELETE CASCADE
);
