-- TAXII 2.1: collections with their sharing scope, the STIX objects in them (every version),
-- the status of add-objects requests, and the key that signs paging tokens.
-- date_added and version are unix microseconds (bigint), as in the SQLite schema.

CREATE TABLE taxii_collections (
    id           uuid PRIMARY KEY,
    title        text NOT NULL,
    description  text,
    alias        text CONSTRAINT taxii_collections_alias_key UNIQUE,
    media_types  text[] NOT NULL,
    owner_org    uuid NOT NULL CONSTRAINT taxii_collections_owner_fkey REFERENCES organisations (id),
    sharing      text NOT NULL,
    sharing_orgs uuid[] NOT NULL,
    writers      text NOT NULL,
    default_tlp  text NOT NULL,
    -- The newest date_added of the collection: the next one is later still. Adding objects
    -- locks this row, so servers sharing the database keep date_added unique and increasing.
    last_added   bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE taxii_objects (
    row           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id uuid NOT NULL CONSTRAINT taxii_objects_collection_fkey REFERENCES taxii_collections (id) ON DELETE CASCADE,
    stix_id       text NOT NULL,
    object_type   text NOT NULL,
    version       bigint NOT NULL,
    date_added    bigint NOT NULL,
    spec_version  text NOT NULL,
    tlp           text NOT NULL,
    org_id        uuid NOT NULL,
    user_id       uuid,
    is_first      boolean NOT NULL,
    is_last       boolean NOT NULL,
    body          text NOT NULL
);

CREATE UNIQUE INDEX taxii_objects_added_idx ON taxii_objects (collection_id, date_added, row);
CREATE UNIQUE INDEX taxii_objects_version_idx ON taxii_objects (collection_id, stix_id, version);
CREATE INDEX taxii_objects_type_idx ON taxii_objects (collection_id, object_type, date_added);

CREATE TABLE taxii_status (
    id                uuid PRIMARY KEY,
    collection_id     uuid NOT NULL,
    user_id           uuid,
    org_id            uuid NOT NULL,
    request_timestamp timestamptz NOT NULL,
    details           jsonb NOT NULL
);

CREATE TABLE taxii_keys (
    name   text PRIMARY KEY,
    secret bytea NOT NULL
);

-- 244 random bits from two version-4 UUIDs (gen_random_uuid is built in since PostgreSQL 13).
INSERT INTO taxii_keys (name, secret)
VALUES ('paging', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
