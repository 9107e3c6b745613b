-- Constituent notifications: the delivery record (every message with its attempts, and the
-- events each told about), and the schedule and suppression state.

CREATE TABLE notify_messages (
    id              BLOB PRIMARY KEY NOT NULL,
    message_id      TEXT NOT NULL,
    org_id          BLOB NOT NULL,
    contact_id      BLOB,
    email           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    resend_of       BLOB,
    subject         TEXT NOT NULL,
    tlp             TEXT NOT NULL,
    language        TEXT NOT NULL,
    encrypted       INTEGER NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_attempt_at INTEGER,
    next_attempt_at INTEGER,
    sent_at         INTEGER,
    last_error      TEXT,
    event_count     INTEGER NOT NULL,
    raw             BLOB NOT NULL
) STRICT;

CREATE INDEX notify_messages_org_idx ON notify_messages (org_id, id);
CREATE INDEX notify_messages_due_idx ON notify_messages (next_attempt_at) WHERE status = 'pending';

-- Which events each message told about; by event, which contacts were told and when.
CREATE TABLE notify_message_events (
    message_id BLOB NOT NULL,
    event_id   BLOB NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (message_id, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX notify_message_events_event_idx ON notify_message_events (event_id);

CREATE TABLE notify_schedule_state (
    org_id       BLOB NOT NULL,
    schedule     TEXT NOT NULL,
    last_sent_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, schedule)
) STRICT, WITHOUT ROWID;

-- Per organisation and suppression key: when it was last told, and how many repeats were
-- counted instead.
CREATE TABLE notify_suppression (
    org_id           BLOB NOT NULL,
    key              TEXT NOT NULL,
    last_notified_at INTEGER,
    suppressed       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, key)
) STRICT, WITHOUT ROWID;
