-- Event rollups (see neretva_store::rollup): the number of events per UTC day (of time_source,
-- else time_observation) and classification type, overall and per organisation routed to. Every
-- write that adds or removes events changes them in its own transaction, so overviews read at
-- most days × types × organisations rows, however many events there are.
--
-- An event without a type has typed = 0 and an empty classification_type. An event counts once
-- in event_day_counts and once per organisation in event_org_day_counts; there its rows carry the
-- sorted ids of all its organisations (shared, upper-case hex; empty for an event of one), so a
-- count over several organisations counts it once. Rows reaching zero are deleted.
CREATE TABLE event_day_counts (
    day                 INTEGER NOT NULL,
    typed               INTEGER NOT NULL,
    classification_type TEXT NOT NULL,
    events              INTEGER NOT NULL,
    PRIMARY KEY (day, typed, classification_type)
) STRICT, WITHOUT ROWID;

CREATE TABLE event_org_day_counts (
    org_id              BLOB NOT NULL,
    day                 INTEGER NOT NULL,
    typed               INTEGER NOT NULL,
    classification_type TEXT NOT NULL,
    shared              TEXT NOT NULL,
    events              INTEGER NOT NULL,
    PRIMARY KEY (org_id, day, typed, classification_type, shared)
) STRICT, WITHOUT ROWID;

-- Counts over a window of days for every organisation (the CERT's staff).
CREATE INDEX event_org_day_counts_day_idx ON event_org_day_counts (day);

-- The stored events counted once: one pass over events (and event_orgs) sorted by key. Days are
-- floored (times before 1970 fall on negative days), as the store computes them.
INSERT INTO event_day_counts (day, typed, classification_type, events)
SELECT t / 86400000000 - (t % 86400000000 < 0), kind IS NOT NULL, coalesce(kind, ''), count(*)
FROM (SELECT coalesce(time_source, time_observation) AS t, classification_type AS kind FROM events)
GROUP BY 1, 2, 3;

INSERT INTO event_org_day_counts (org_id, day, typed, classification_type, shared, events)
SELECT org_id, t / 86400000000 - (t % 86400000000 < 0), kind IS NOT NULL, coalesce(kind, ''), shared, count(*)
FROM (
    SELECT o.org_id, coalesce(e.time_source, e.time_observation) AS t, e.classification_type AS kind,
           (SELECT CASE WHEN count(*) > 1 THEN group_concat(hex(s.org_id), '' ORDER BY s.org_id) ELSE '' END
            FROM event_orgs s WHERE s.event_id = o.event_id) AS shared
    FROM event_orgs o JOIN events e ON e.id = o.event_id
)
GROUP BY 1, 2, 3, 4, 5;
