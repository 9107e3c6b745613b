-- Event search: a filter on an AS reads that AS's events newest first from the index and stops at
-- the page's end, instead of reading and sorting every event of the AS (an AS of a large telecom
-- holds millions).
DROP INDEX events_asn_idx;
CREATE INDEX events_asn_idx ON events (source_asn, id) WHERE source_asn IS NOT NULL;
