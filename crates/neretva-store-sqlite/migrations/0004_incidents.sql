-- Incident handling and mandatory reporting: the sectors competent authorities supervise,
-- incidents with their reports, tasks, observables (and the feed events they match), timeline,
-- links and evidence, the chain of custody, and e-mail intake.
-- Domain objects are kept whole as JSON (`body`); the columns beside them are what queries
-- filter and sort on. Identifiers are UUIDs as text; timestamps are unix microseconds (UTC).
-- Version 3 is another migration's.

ALTER TABLE users ADD COLUMN sectors TEXT NOT NULL DEFAULT '[]';

CREATE TABLE incidents (
    id             TEXT PRIMARY KEY NOT NULL,
    version        INTEGER NOT NULL,
    status         TEXT NOT NULL,
    severity       TEXT NOT NULL,
    classification TEXT NOT NULL,
    tlp            TEXT NOT NULL,
    assignee_id    TEXT,
    merged         INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    -- The earliest open deadline, or the largest integer when there is none: the queue's order.
    queue_due      INTEGER NOT NULL,
    body           TEXT NOT NULL,
    deadlines      TEXT
) STRICT;

CREATE INDEX incidents_queue_idx ON incidents (queue_due, id) WHERE status IN ('new', 'triage', 'in_progress');
CREATE INDEX incidents_status_idx ON incidents (status, id);
CREATE INDEX incidents_assignee_idx ON incidents (assignee_id, id);
CREATE INDEX incidents_created_idx ON incidents (created_at);

-- The reporting and the affected organisations of each incident.
CREATE TABLE incident_orgs (
    org_id      TEXT NOT NULL,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    PRIMARY KEY (org_id, incident_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX incident_orgs_incident_idx ON incident_orgs (incident_id);

-- Title, description and observable values, ASCII letters in lower case, for LIKE searches.
CREATE TABLE incident_search (
    incident_id TEXT PRIMARY KEY NOT NULL REFERENCES incidents (id),
    text        TEXT NOT NULL
) STRICT;

CREATE TABLE incident_reports (
    id           TEXT PRIMARY KEY NOT NULL,
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    org_id       TEXT,
    submitted_by TEXT,
    channel      TEXT NOT NULL,
    stage        TEXT NOT NULL,
    tlp          TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    body         TEXT NOT NULL
) STRICT;

CREATE INDEX incident_reports_incident_idx ON incident_reports (incident_id, received_at);
CREATE INDEX incident_reports_org_idx ON incident_reports (org_id, id);

CREATE TABLE incident_tasks (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    body        TEXT NOT NULL
) STRICT;

CREATE INDEX incident_tasks_incident_idx ON incident_tasks (incident_id, seq);

CREATE TABLE incident_timeline (
    seq         INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    at          INTEGER NOT NULL,
    body        TEXT NOT NULL
) STRICT;

CREATE INDEX incident_timeline_incident_idx ON incident_timeline (incident_id, at, seq);

CREATE TABLE incident_observables (
    seq         INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    body        TEXT NOT NULL,
    CONSTRAINT incident_observables_key UNIQUE (incident_id, kind, value)
) STRICT;

CREATE INDEX incident_observables_value_idx ON incident_observables (kind, value);

-- The feed events each observable matched when it was last matched (shared by every incident
-- holding the observable), at most 1,000 per observable, and how many there were.
CREATE TABLE observable_matches (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    total      INTEGER NOT NULL,
    complete   INTEGER NOT NULL,
    matched_at INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
) STRICT, WITHOUT ROWID;

CREATE TABLE observable_events (
    kind     TEXT NOT NULL,
    value    TEXT NOT NULL,
    event_id TEXT NOT NULL,
    fields   TEXT NOT NULL,
    PRIMARY KEY (kind, value, event_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX observable_events_event_idx ON observable_events (event_id);

-- Each link once, in canonical direction (from_id < to_id).
CREATE TABLE incident_links (
    from_id TEXT NOT NULL REFERENCES incidents (id),
    to_id   TEXT NOT NULL REFERENCES incidents (id),
    kind    TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX incident_links_to_idx ON incident_links (to_id);

CREATE TABLE evidence (
    seq         INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    body        TEXT NOT NULL,
    CONSTRAINT evidence_key UNIQUE (incident_id, sha256)
) STRICT;

CREATE INDEX evidence_sha256_idx ON evidence (sha256);

-- Custody chains stay with the incident they were recorded in, also after its evidence moved
-- to another incident in a merge.
CREATE TABLE evidence_custody (
    incident_id TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (incident_id, sha256, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE mail_intake (
    id          TEXT PRIMARY KEY NOT NULL,
    received_at INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    incident_id TEXT REFERENCES incidents (id),
    raw_sha256  TEXT NOT NULL,
    raw_size    INTEGER NOT NULL,
    body        TEXT NOT NULL
) STRICT;

CREATE INDEX mail_intake_failed_idx ON mail_intake (failed, id);
CREATE INDEX mail_intake_sha256_idx ON mail_intake (raw_sha256);
