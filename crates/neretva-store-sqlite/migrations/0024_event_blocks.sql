-- Events' texts (their IntelMQ JSON and raw line) in compressed blocks of a batch's events (see
-- src/event_blocks.rs): a block holds up to 64 events' texts, LZ4-compressed, and is deleted with
-- its last event. An event row names its block and its slot in it, and keeps empty texts; rows
-- written before blocks existed keep their texts and no block. `first_seq` and `last_seq` are the
-- smallest and largest seq of the block's events, so finding whether a block still has events
-- reads only their rows.
CREATE TABLE event_blocks (
    id        INTEGER PRIMARY KEY NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    data      BLOB NOT NULL
) STRICT;

ALTER TABLE events ADD COLUMN block INTEGER;
ALTER TABLE events ADD COLUMN slot INTEGER;
