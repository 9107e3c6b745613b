-- Working groups: the main group and its sector sub-groups, each stored whole as JSON (members,
-- meetings, action items, documents, announcements) with a version for optimistic concurrency.
-- Identifiers are UUIDs as text; timestamps are unix microseconds (UTC).

CREATE TABLE working_groups (
    id           TEXT PRIMARY KEY NOT NULL,
    code         TEXT NOT NULL UNIQUE,
    parent_id    TEXT REFERENCES working_groups (id),
    convener_org TEXT NOT NULL REFERENCES organisations (id),
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL,              -- JSON of neretva_governance::groups::WorkingGroup
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX working_groups_parent_idx ON working_groups (parent_id);
