-- Threat intelligence: intel events (their MISP JSON with indexed columns), attributes, tags,
-- sightings, sharing groups with their members, and the correlations found on write.
-- Identifiers are UUIDs as text; timestamps are unix microseconds (UTC).

CREATE TABLE intel_sharing_groups (
    uuid         TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    owner_org    TEXT NOT NULL,
    confidential INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE intel_sharing_group_members (
    group_uuid TEXT NOT NULL REFERENCES intel_sharing_groups (uuid) ON DELETE CASCADE,
    org        TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (group_uuid, org)
) STRICT;

CREATE INDEX intel_sharing_group_members_org_idx ON intel_sharing_group_members (org);

CREATE TABLE intel_events (
    seq            INTEGER PRIMARY KEY,
    uuid           TEXT NOT NULL UNIQUE,
    owner_org      TEXT NOT NULL,
    creator_org    TEXT NOT NULL,
    info           TEXT NOT NULL,
    info_lower     TEXT NOT NULL,
    date           TEXT NOT NULL,
    published      INTEGER NOT NULL,
    distribution   INTEGER NOT NULL,
    sharing_group  TEXT,
    tlp            TEXT NOT NULL,
    timestamp      INTEGER NOT NULL,
    publish_timestamp INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    body           TEXT NOT NULL          -- the event's MISP JSON
) STRICT;

CREATE INDEX intel_events_owner_idx ON intel_events (owner_org, seq);
CREATE INDEX intel_events_creator_idx ON intel_events (creator_org, seq);
CREATE INDEX intel_events_timestamp_idx ON intel_events (timestamp);
CREATE INDEX intel_events_sharing_group_idx ON intel_events (sharing_group);

CREATE TABLE intel_event_tags (
    event_uuid TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    PRIMARY KEY (event_uuid, name)
) STRICT;

CREATE INDEX intel_event_tags_name_idx ON intel_event_tags (name);

CREATE TABLE intel_attributes (
    uuid          TEXT PRIMARY KEY NOT NULL,
    event_uuid    TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    object_uuid   TEXT,
    type          TEXT NOT NULL,
    category      TEXT NOT NULL,
    value         TEXT NOT NULL,         -- canonical
    to_ids        INTEGER NOT NULL,
    deleted       INTEGER NOT NULL,
    distribution  INTEGER NOT NULL,
    sharing_group TEXT
) STRICT;

CREATE INDEX intel_attributes_value_idx ON intel_attributes (value);
CREATE INDEX intel_attributes_event_idx ON intel_attributes (event_uuid);
CREATE INDEX intel_attributes_type_idx ON intel_attributes (type, value);

-- The correlation lookup keys of each attribute (see neretva_store::intel::stored_keys).
CREATE TABLE intel_attribute_keys (
    attribute_uuid TEXT NOT NULL REFERENCES intel_attributes (uuid) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    PRIMARY KEY (key, attribute_uuid)
) STRICT;

CREATE INDEX intel_attribute_keys_attribute_idx ON intel_attribute_keys (attribute_uuid);

CREATE TABLE intel_sightings (
    uuid           TEXT PRIMARY KEY NOT NULL,
    event_uuid     TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    attribute_uuid TEXT NOT NULL,
    kind           TEXT NOT NULL,
    source         TEXT NOT NULL,
    time           INTEGER NOT NULL,
    org            TEXT
) STRICT;

CREATE INDEX intel_sightings_attribute_idx ON intel_sightings (attribute_uuid, time);

-- Links in both directions: each event's row names the other event.
CREATE TABLE intel_correlations (
    event_uuid      TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    attribute_uuid  TEXT NOT NULL,
    other_event     TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    other_attribute TEXT NOT NULL,
    relation        TEXT NOT NULL,
    PRIMARY KEY (event_uuid, attribute_uuid, other_attribute)
) STRICT;

CREATE INDEX intel_correlations_other_idx ON intel_correlations (other_event);

CREATE TABLE intel_over_correlating (
    event_uuid     TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    attribute_uuid TEXT NOT NULL,
    key            TEXT NOT NULL,
    count          INTEGER NOT NULL,
    PRIMARY KEY (event_uuid, attribute_uuid, key)
) STRICT;
