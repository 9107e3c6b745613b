-- Threat intelligence: intel events (their MISP JSON with indexed columns), attributes, tags,
-- sightings, sharing groups with their members, and the correlations found on write.
-- Identifiers are UUIDs as text and timestamps unix microseconds, as in the SQLite schema.

CREATE TABLE intel_sharing_groups (
    uuid         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    owner_org    TEXT NOT NULL,
    confidential boolean NOT NULL,
    updated_at   bigint NOT NULL
);

CREATE TABLE intel_sharing_group_members (
    group_uuid TEXT NOT NULL REFERENCES intel_sharing_groups (uuid) ON DELETE CASCADE,
    org        TEXT NOT NULL,
    position   bigint NOT NULL,
    PRIMARY KEY (group_uuid, org)
);

CREATE INDEX intel_sharing_group_members_org_idx ON intel_sharing_group_members (org);

CREATE TABLE intel_events (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid           TEXT NOT NULL UNIQUE,
    owner_org      TEXT NOT NULL,
    creator_org    TEXT NOT NULL,
    info           TEXT NOT NULL,
    info_lower     TEXT NOT NULL,
    date           TEXT NOT NULL,
    published      boolean NOT NULL,
    distribution   smallint NOT NULL,
    sharing_group  TEXT,
    tlp            TEXT NOT NULL,
    timestamp      bigint NOT NULL,
    publish_timestamp bigint,
    created_at     bigint NOT NULL,
    updated_at     bigint NOT NULL,
    body           TEXT NOT NULL          -- the event's MISP JSON
);

CREATE INDEX intel_events_owner_idx ON intel_events (owner_org, seq);
CREATE INDEX intel_events_creator_idx ON intel_events (creator_org, seq);
CREATE INDEX intel_events_timestamp_idx ON intel_events (timestamp);
CREATE INDEX intel_events_sharing_group_idx ON intel_events (sharing_group);

CREATE TABLE intel_event_tags (
    event_uuid TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    PRIMARY KEY (event_uuid, name)
);

CREATE INDEX intel_event_tags_name_idx ON intel_event_tags (name);

CREATE TABLE intel_attributes (
    uuid          TEXT PRIMARY KEY,
    event_uuid    TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    object_uuid   TEXT,
    type          TEXT NOT NULL,
    category      TEXT NOT NULL,
    value         TEXT NOT NULL,         -- canonical
    to_ids        boolean NOT NULL,
    deleted       boolean NOT NULL,
    distribution  smallint NOT NULL,
    sharing_group TEXT
);

CREATE INDEX intel_attributes_value_idx ON intel_attributes (value);
CREATE INDEX intel_attributes_event_idx ON intel_attributes (event_uuid);
CREATE INDEX intel_attributes_type_idx ON intel_attributes (type, value);

-- The correlation lookup keys of each attribute (see neretva_store::intel::stored_keys).
CREATE TABLE intel_attribute_keys (
    attribute_uuid TEXT NOT NULL REFERENCES intel_attributes (uuid) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    PRIMARY KEY (key, attribute_uuid)
);

CREATE INDEX intel_attribute_keys_attribute_idx ON intel_attribute_keys (attribute_uuid);

CREATE TABLE intel_sightings (
    uuid           TEXT PRIMARY KEY,
    event_uuid     TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    attribute_uuid TEXT NOT NULL,
    kind           TEXT NOT NULL,
    source         TEXT NOT NULL,
    time           bigint NOT NULL,
    org            TEXT
);

CREATE INDEX intel_sightings_attribute_idx ON intel_sightings (attribute_uuid, time);

-- Links in both directions: each event's row names the other event.
CREATE TABLE intel_correlations (
    event_uuid      TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    attribute_uuid  TEXT NOT NULL,
    other_event     TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    other_attribute TEXT NOT NULL,
    relation        TEXT NOT NULL,
    PRIMARY KEY (event_uuid, attribute_uuid, other_attribute)
);

CREATE INDEX intel_correlations_other_idx ON intel_correlations (other_event);

CREATE TABLE intel_over_correlating (
    event_uuid     TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    attribute_uuid TEXT NOT NULL,
    key            TEXT NOT NULL,
    count          bigint NOT NULL,
    PRIMARY KEY (event_uuid, attribute_uuid, key)
);
