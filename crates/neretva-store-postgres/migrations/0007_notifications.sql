-- Constituent notifications: the delivery record (every message with its attempts, and the
-- events each told about), and the schedule and suppression state.

CREATE TABLE notify_messages (
    id              uuid PRIMARY KEY,
    message_id      text NOT NULL,
    org_id          uuid NOT NULL,
    contact_id      uuid,
    email           text NOT NULL,
    kind            text NOT NULL,
    resend_of       uuid,
    subject         text NOT NULL,
    tlp             text NOT NULL,
    language        text NOT NULL,
    encrypted       boolean NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    last_attempt_at timestamptz,
    next_attempt_at timestamptz,
    sent_at         timestamptz,
    last_error      text,
    event_count     bigint NOT NULL,
    raw             bytea NOT NULL
);

CREATE INDEX notify_messages_org_idx ON notify_messages (org_id, id);
CREATE INDEX notify_messages_due_idx ON notify_messages (next_attempt_at) WHERE status = 'pending';

-- Which events each message told about; by event, which contacts were told and when.
CREATE TABLE notify_message_events (
    message_id uuid NOT NULL,
    event_id   uuid NOT NULL,
    position   integer NOT NULL,
    CONSTRAINT notify_message_events_pkey PRIMARY KEY (message_id, position)
);

CREATE INDEX notify_message_events_event_idx ON notify_message_events (event_id);

CREATE TABLE notify_schedule_state (
    org_id       uuid NOT NULL,
    schedule     text NOT NULL,
    last_sent_at timestamptz NOT NULL,
    CONSTRAINT notify_schedule_state_pkey PRIMARY KEY (org_id, schedule)
);

-- Per organisation and suppression key: when it was last told, and how many repeats were
-- counted instead.
CREATE TABLE notify_suppression (
    org_id           uuid NOT NULL,
    key              text NOT NULL,
    last_notified_at timestamptz,
    suppressed       bigint NOT NULL DEFAULT 0,
    CONSTRAINT notify_suppression_pkey PRIMARY KEY (org_id, key)
);
