-- TAXII 2.1: collections with their sharing scope, the STIX objects in them (every version),
-- the status of add-objects requests, and the key that signs paging tokens.
-- Identifiers are UUIDs as text; timestamps are unix microseconds (UTC).

CREATE TABLE taxii_collections (
    id           TEXT PRIMARY KEY NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT,
    alias        TEXT UNIQUE,
    media_types  TEXT NOT NULL,            -- JSON array
    owner_org    TEXT NOT NULL REFERENCES organisations (id),
    sharing      TEXT NOT NULL,            -- organisation, groups, community, public
    sharing_orgs TEXT NOT NULL,            -- JSON array of organisation ids (groups)
    writers      TEXT NOT NULL,            -- nobody, owner, readers
    default_tlp  TEXT NOT NULL,
    -- The newest date_added of the collection: the next one is later still.
    last_added   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE taxii_objects (
    row           INTEGER PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES taxii_collections (id) ON DELETE CASCADE,
    stix_id       TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    -- modified, else created, else date_added.
    version       INTEGER NOT NULL,
    -- Unique and increasing within the collection: the paging order.
    date_added    INTEGER NOT NULL,
    spec_version  TEXT NOT NULL,
    tlp           TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    user_id       TEXT,
    is_first      INTEGER NOT NULL,
    is_last       INTEGER NOT NULL,
    body          TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX taxii_objects_added_idx ON taxii_objects (collection_id, date_added, row);
CREATE UNIQUE INDEX taxii_objects_version_idx ON taxii_objects (collection_id, stix_id, version);
CREATE INDEX taxii_objects_type_idx ON taxii_objects (collection_id, object_type, date_added);

CREATE TABLE taxii_status (
    id                TEXT PRIMARY KEY NOT NULL,
    collection_id     TEXT NOT NULL,
    user_id           TEXT,
    org_id            TEXT NOT NULL,
    request_timestamp INTEGER NOT NULL,
    details           TEXT NOT NULL        -- JSON: successes, failures, pendings
) STRICT;

CREATE TABLE taxii_keys (
    name   TEXT PRIMARY KEY NOT NULL,
    secret BLOB NOT NULL
) STRICT;

INSERT INTO taxii_keys (name, secret) VALUES ('paging', randomblob(32));
