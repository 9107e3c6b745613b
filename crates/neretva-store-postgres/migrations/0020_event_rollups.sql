-- Event rollups (see neretva_store::rollup): the number of events per UTC day (of time_source,
-- else time_observation) and classification type, overall and per organisation routed to. Every
-- write that adds or removes events changes them in its own transaction, so overviews read at
-- most days × types × organisations rows, however many events there are.
--
-- An event without a type has typed = false and an empty classification_type. An event counts
-- once in event_day_counts and once per organisation in event_org_day_counts; there its rows
-- carry the sorted ids of all its organisations (shared, upper-case hex; empty for an event of
-- one), so a count over several organisations counts it once. Rows reaching zero are deleted.
-- Writers change the rows of their keys in key order, so two writers never deadlock on them.
CREATE TABLE event_day_counts (
    day                 bigint NOT NULL,
    typed               boolean NOT NULL,
    classification_type text NOT NULL,
    events              bigint NOT NULL,
    CONSTRAINT event_day_counts_pkey PRIMARY KEY (day, typed, classification_type)
);

CREATE TABLE event_org_day_counts (
    org_id              uuid NOT NULL,
    day                 bigint NOT NULL,
    typed               boolean NOT NULL,
    classification_type text NOT NULL,
    shared              text NOT NULL,
    events              bigint NOT NULL,
    CONSTRAINT event_org_day_counts_pkey PRIMARY KEY (org_id, day, typed, classification_type, shared)
);

-- Counts over a window of days for every organisation (the CERT's staff).
CREATE INDEX event_org_day_counts_day_idx ON event_org_day_counts (day);

-- The stored events counted once: one pass over events (and event_orgs) with hash aggregation.
INSERT INTO event_day_counts (day, typed, classification_type, events)
SELECT floor(extract(epoch FROM coalesce(time_source, time_observation)) / 86400)::bigint,
       classification_type IS NOT NULL, coalesce(classification_type, ''), count(*)
FROM events
GROUP BY 1, 2, 3;

INSERT INTO event_org_day_counts (org_id, day, typed, classification_type, shared, events)
SELECT o.org_id, floor(extract(epoch FROM coalesce(e.time_source, e.time_observation)) / 86400)::bigint,
       e.classification_type IS NOT NULL, coalesce(e.classification_type, ''), coalesce(m.shared, ''), count(*)
FROM event_orgs o
JOIN events e ON e.id = o.event_id
LEFT JOIN (
    SELECT event_id, string_agg(upper(replace(org_id::text, '-', '')), '' ORDER BY org_id) AS shared
    FROM event_orgs
    GROUP BY event_id
    HAVING count(*) > 1
) m ON m.event_id = o.event_id
GROUP BY 1, 2, 3, 4, 5;
