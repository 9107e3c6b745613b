-- Event search over an older time window: a broad filter (feed, taxonomy, type) pages newest
-- first through its index and skips the newer events outside the window. With the event's time
-- (time.source, else time.observation) as the index's last key column, the window is an index
-- condition checked in the index, so the skipped events' rows are never fetched.
DROP INDEX events_taxonomy_idx;
CREATE INDEX events_taxonomy_idx ON events (taxonomy, id, (coalesce(time_source, time_observation)));
DROP INDEX events_type_idx;
CREATE INDEX events_type_idx ON events (classification_type, id, (coalesce(time_source, time_observation)));
DROP INDEX events_feed_idx;
CREATE INDEX events_feed_idx ON events (feed, id, (coalesce(time_source, time_observation)));
