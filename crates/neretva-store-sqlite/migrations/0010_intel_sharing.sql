-- Intel events' correlations with incident observables and stored feed events, computed when an
-- event is written (see neretva_store::intel::correlate_external). Targets are not foreign keys:
-- incidents and feed events may go, and readers skip links to what is no longer there.

CREATE TABLE intel_external_links (
    event_uuid     TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    attribute_uuid TEXT NOT NULL,
    kind           TEXT NOT NULL,        -- incident_observable or feed_event
    target         TEXT NOT NULL,        -- the incident or the feed event
    detail         TEXT NOT NULL,
    relation       TEXT NOT NULL,
    PRIMARY KEY (event_uuid, attribute_uuid, kind, target, detail)
) STRICT;

CREATE TABLE intel_external_over (
    event_uuid     TEXT NOT NULL REFERENCES intel_events (uuid) ON DELETE CASCADE,
    attribute_uuid TEXT NOT NULL,
    kind           TEXT NOT NULL,
    key            TEXT NOT NULL,
    count          INTEGER NOT NULL,
    PRIMARY KEY (event_uuid, attribute_uuid, kind, key)
) STRICT;
