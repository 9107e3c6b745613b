-- What each feed's source keeps between runs of the server (see neretva_store::feeds::SourceRecord):
-- one row per feed, replaced at every save; the state is the source's own JSON document.
CREATE TABLE source_records (
    feed     text PRIMARY KEY,
    kind     text NOT NULL,
    state    text NOT NULL,
    saved_at timestamptz NOT NULL
);
