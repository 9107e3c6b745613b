-- The feed pipeline: raw reports and the records that failed to parse, harmonised events with
-- the organisations they concern, the notification queue and the deduplication state.
--
-- Events, their routing (event_orgs) and their notifications are the high-volume tables: they
-- carry no foreign keys, so inserting costs only the rows and their indexes; the store deletes
-- an event's rows in all three together. Every index entry costs each insert, so the events
-- table keeps few, small ones: ids are UUIDs as 16-byte BLOBs (v7, so they order by time),
-- indexes refer to rows by an integer key, and IP addresses are 16-byte BLOBs (an IPv4 address
-- as IPv4-mapped IPv6), so a network is a BETWEEN range on an index.

CREATE TABLE reports (
    id          TEXT PRIMARY KEY NOT NULL,
    feed        TEXT NOT NULL,
    parser      TEXT NOT NULL,
    source      TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    status      TEXT NOT NULL,
    records     INTEGER NOT NULL DEFAULT 0,
    events      INTEGER NOT NULL DEFAULT 0,
    errors      INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    dropped     INTEGER NOT NULL DEFAULT 0,
    parsed_at   INTEGER,
    failure     TEXT,
    CONSTRAINT reports_feed_sha256_key UNIQUE (feed, sha256)
) STRICT;

CREATE INDEX reports_feed_idx ON reports (feed, id);

-- A report's data, apart from its row: SQLite rewrites a whole row when one of its columns
-- changes, so finishing a report would otherwise copy all its data again.
CREATE TABLE report_data (
    report_id TEXT PRIMARY KEY NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    data      BLOB NOT NULL
) STRICT;

CREATE TABLE report_errors (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    -- The error's place in the list given to finish_report, which orders errors of one line.
    position  INTEGER NOT NULL,
    field     TEXT,
    message   TEXT NOT NULL,
    raw       TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX report_errors_report_idx ON report_errors (report_id, line, position);

CREATE TABLE events (
    -- The row's key, in insertion order; indexes refer to rows by it.
    seq                 INTEGER PRIMARY KEY NOT NULL,
    id                  BLOB NOT NULL UNIQUE,
    report_id           BLOB NOT NULL,
    feed                TEXT NOT NULL,
    line                INTEGER NOT NULL,
    time_observation    INTEGER NOT NULL,
    time_source         INTEGER,
    taxonomy            TEXT,
    classification_type TEXT,
    source_ip           BLOB,
    source_asn          INTEGER,
    source_fqdn         TEXT,
    destination_ip      BLOB,
    stored_at           INTEGER NOT NULL,
    raw                 TEXT NOT NULL,
    json                TEXT NOT NULL
) STRICT;

-- The broad filters (feed, taxonomy, type) end in the id, so a page of a large feed or class
-- reads the index newest first and stops at the limit; the narrow ones (AS, addresses, time
-- ranges) find few enough rows to sort. Reports and observation times have no index: see
-- event_ranges.
CREATE INDEX events_time_idx ON events (coalesce(time_source, time_observation));
CREATE INDEX events_taxonomy_idx ON events (taxonomy, id);
CREATE INDEX events_type_idx ON events (classification_type, id);
CREATE INDEX events_feed_idx ON events (feed, id);
CREATE INDEX events_asn_idx ON events (source_asn) WHERE source_asn IS NOT NULL;
CREATE INDEX events_source_ip_idx ON events (source_ip) WHERE source_ip IS NOT NULL;
CREATE INDEX events_destination_ip_idx ON events (destination_ip)
    WHERE destination_ip IS NOT NULL;

-- Where each report's events are, instead of an index entry per event: one row per stored batch
-- and report, with the smallest and largest seq of the report's events in that batch and their
-- earliest observation time. A new batch's seqs come after every stored event, and both ends of
-- a range are events of its report (the store shrinks or deletes a range when it deletes
-- events), so a report's ranges never overlap. Listing or deleting a report's events reads its
-- ranges; purging by observation time reads the ranges that hold old events.
CREATE TABLE event_ranges (
    first_seq    INTEGER PRIMARY KEY NOT NULL,
    last_seq     INTEGER NOT NULL,
    report_id    BLOB NOT NULL,
    min_observed INTEGER NOT NULL
) STRICT;

CREATE INDEX event_ranges_report_idx ON event_ranges (report_id);
CREATE INDEX event_ranges_observed_idx ON event_ranges (min_observed);

CREATE TABLE event_orgs (
    event_id BLOB NOT NULL,
    org_id   BLOB NOT NULL,
    PRIMARY KEY (event_id, org_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX event_orgs_org_idx ON event_orgs (org_id, event_id);

CREATE TABLE notification_queue (
    id        INTEGER PRIMARY KEY NOT NULL,
    org_id    BLOB NOT NULL,
    event_id  BLOB NOT NULL,
    queued_at INTEGER NOT NULL,
    taken_at  INTEGER
) STRICT;

-- The queue's order is its rowid (the order rows were queued in); pending rows of one
-- organisation are found through this index, in that order.
CREATE INDEX notification_queue_org_idx ON notification_queue (org_id) WHERE taken_at IS NULL;
CREATE INDEX notification_queue_event_idx ON notification_queue (event_id);

-- Deduplication keys as a log (see src/dedup.rs): one row per recording of a key, with the
-- time and the report that recorded it (the same report may see it again); a key's row with the
-- largest seq is its state. Keys are hashes, so a table keyed by them would take each new key on
-- a random page; the log is written in order and each store looks keys up in an index of it in
-- memory. A key of 64 hex digits (a SHA-256) is kept as its first 16 bytes; any other key as its
-- UTF-8 bytes and a NUL (and a second one when that would make 16 bytes), so the two never meet.
CREATE TABLE dedup_keys (
    seq       INTEGER PRIMARY KEY NOT NULL,
    key       BLOB NOT NULL,
    seen_at   INTEGER NOT NULL,
    report_id BLOB NOT NULL
) STRICT;

-- The log's next seq (never reused, so a store reading the rows after the last it read misses
-- none) and its generation, which a purge that forgets keys increases: then stores read the
-- whole log again.
CREATE TABLE dedup_state (
    id         INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    next_seq   INTEGER NOT NULL,
    generation INTEGER NOT NULL
) STRICT;

INSERT INTO dedup_state (id, next_seq, generation) VALUES (1, 1, 0);
