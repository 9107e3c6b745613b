-- Event search over an older time window: a broad filter (feed, taxonomy, type) pages newest
-- first through its index and skips the newer events outside the window. With the event's time
-- (time.source, else time.observation) in the index entry, each skipped event is checked in the
-- index, without reading its row; only the page's events are read. The entries grow by the time
-- value; they are still appended in id order within each key, so inserting costs about the same.
DROP INDEX events_taxonomy_idx;
CREATE INDEX events_taxonomy_idx ON events (taxonomy, id, coalesce(time_source, time_observation));
DROP INDEX events_type_idx;
CREATE INDEX events_type_idx ON events (classification_type, id, coalesce(time_source, time_observation));
DROP INDEX events_feed_idx;
CREATE INDEX events_feed_idx ON events (feed, id, coalesce(time_source, time_observation));
