-- The feed pipeline: raw reports and the records that failed to parse, harmonised events with
-- the organisations they concern, the notification queue and the deduplication state.
--
-- Events, their routing (event_orgs) and their notifications are the high-volume tables, filled
-- with COPY: they carry no foreign keys (whose per-row triggers would cost more than the rows),
-- and the store deletes an event's rows in all three together. IP addresses are 16-byte bytea
-- values (an IPv4 address as IPv4-mapped IPv6), as in the SQLite backend: a network is a BETWEEN
-- range on a B-tree index, which takes parameters in generic plans and inserts faster than a
-- GiST index on inet.

CREATE TABLE reports (
    id          uuid PRIMARY KEY,
    feed        text NOT NULL,
    parser      text NOT NULL,
    source      text NOT NULL,
    received_at timestamptz NOT NULL,
    sha256      text NOT NULL,
    size        bigint NOT NULL,
    status      text NOT NULL,
    records     bigint NOT NULL DEFAULT 0,
    events      bigint NOT NULL DEFAULT 0,
    errors      bigint NOT NULL DEFAULT 0,
    duplicates  bigint NOT NULL DEFAULT 0,
    dropped     bigint NOT NULL DEFAULT 0,
    parsed_at   timestamptz,
    failure     text,
    data        bytea NOT NULL,
    CONSTRAINT reports_feed_sha256_key UNIQUE (feed, sha256)
);

-- Reports are large and stored once: out of line and uncompressed, so storing and reading
-- them costs no compression time.
ALTER TABLE reports ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE INDEX reports_feed_idx ON reports (feed, id);

CREATE TABLE report_errors (
    report_id uuid NOT NULL CONSTRAINT report_errors_report_fkey
                  REFERENCES reports (id) ON DELETE CASCADE,
    line      bigint NOT NULL,
    -- The error's place in the list given to finish_report, which orders errors of one line.
    position  bigint NOT NULL,
    field     text,
    message   text NOT NULL,
    raw       text NOT NULL,
    CONSTRAINT report_errors_pkey PRIMARY KEY (report_id, line, position)
);

CREATE TABLE events (
    id                  uuid PRIMARY KEY,
    report_id           uuid NOT NULL,
    feed                text NOT NULL,
    line                bigint NOT NULL,
    time_observation    timestamptz NOT NULL,
    time_source         timestamptz,
    taxonomy            text,
    classification_type text,
    source_ip           bytea,
    source_asn          bigint,
    source_fqdn         text,
    destination_ip      bytea,
    stored_at           timestamptz NOT NULL,
    raw                 text NOT NULL,
    json                text NOT NULL
);

-- Equality filters end in the id, so a filtered page newest first reads the index in order.
-- Observation times and reports follow the order events are stored in (a report's events go
-- in together, and report ids are UUID v7), so block range (BRIN) indexes find them at almost
-- no cost per insert: purging and deleting or listing a report's events read the block ranges
-- they name.
CREATE INDEX events_time_idx ON events ((coalesce(time_source, time_observation)));
CREATE INDEX events_observation_idx ON events USING brin (time_observation);
CREATE INDEX events_taxonomy_idx ON events (taxonomy, id);
CREATE INDEX events_type_idx ON events (classification_type, id);
CREATE INDEX events_feed_idx ON events (feed, id);
CREATE INDEX events_report_idx ON events USING brin (report_id);
CREATE INDEX events_asn_idx ON events (source_asn, id) WHERE source_asn IS NOT NULL;
CREATE INDEX events_source_ip_idx ON events (source_ip) WHERE source_ip IS NOT NULL;
CREATE INDEX events_destination_ip_idx ON events (destination_ip)
    WHERE destination_ip IS NOT NULL;

CREATE TABLE event_orgs (
    event_id uuid NOT NULL,
    org_id   uuid NOT NULL,
    CONSTRAINT event_orgs_pkey PRIMARY KEY (event_id, org_id)
);

CREATE INDEX event_orgs_org_idx ON event_orgs (org_id, event_id);

CREATE TABLE notification_queue (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id    uuid NOT NULL,
    event_id  uuid NOT NULL,
    queued_at timestamptz NOT NULL,
    taken_at  timestamptz
);

-- The queue's order is its id (the order rows were queued in); pending rows of one
-- organisation are found through this index, in that order.
CREATE INDEX notification_queue_org_idx ON notification_queue (org_id, id) WHERE taken_at IS NULL;
CREATE INDEX notification_queue_event_idx ON notification_queue (event_id);

-- A key with the time and the report that recorded it: the same report may see it again.
-- A key of 64 hex digits (a SHA-256) is kept as its first 16 bytes; any other key as its
-- UTF-8 bytes and a NUL, so the two never meet.
CREATE TABLE dedup_keys (
    key       bytea PRIMARY KEY,
    seen_at   timestamptz NOT NULL,
    report_id uuid NOT NULL
);

CREATE INDEX dedup_keys_seen_idx ON dedup_keys (seen_at);
