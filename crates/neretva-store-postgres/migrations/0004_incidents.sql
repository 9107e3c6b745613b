-- Incident handling and mandatory reporting: the sectors competent authorities supervise,
-- incidents with their reports, tasks, observables (and the feed events they match), timeline,
-- links and evidence, the chain of custody, and e-mail intake.
-- Domain objects are kept whole as jsonb (`body`); the columns beside them are what queries
-- filter and sort on. Version 3 is another migration's.

ALTER TABLE users ADD COLUMN sectors text[] NOT NULL DEFAULT '{}';

CREATE TABLE incidents (
    id             uuid PRIMARY KEY,
    version        bigint NOT NULL,
    status         text NOT NULL,
    severity       text NOT NULL,
    classification text NOT NULL,
    tlp            text NOT NULL,
    assignee_id    uuid,
    merged         boolean NOT NULL,
    created_at     timestamptz NOT NULL,
    -- The earliest open deadline, NULL when there is none: the queue's order.
    next_due       timestamptz,
    body           jsonb NOT NULL,
    deadlines      jsonb
);

CREATE INDEX incidents_queue_idx ON incidents (next_due ASC NULLS LAST, id)
    WHERE status IN ('new', 'triage', 'in_progress');
CREATE INDEX incidents_status_idx ON incidents (status, id);
CREATE INDEX incidents_assignee_idx ON incidents (assignee_id, id);
CREATE INDEX incidents_created_idx ON incidents (created_at);

-- The reporting and the affected organisations of each incident.
CREATE TABLE incident_orgs (
    org_id      uuid NOT NULL,
    incident_id uuid NOT NULL CONSTRAINT incident_orgs_incident_fkey REFERENCES incidents (id),
    CONSTRAINT incident_orgs_pkey PRIMARY KEY (org_id, incident_id)
);

CREATE INDEX incident_orgs_incident_idx ON incident_orgs (incident_id);

-- Title, description and observable values, ASCII letters in lower case, for LIKE searches.
CREATE TABLE incident_search (
    incident_id uuid PRIMARY KEY CONSTRAINT incident_search_incident_fkey REFERENCES incidents (id),
    text        text NOT NULL
);

CREATE TABLE incident_reports (
    id           uuid PRIMARY KEY,
    incident_id  uuid NOT NULL CONSTRAINT incident_reports_incident_fkey REFERENCES incidents (id),
    org_id       uuid,
    submitted_by uuid,
    channel      text NOT NULL,
    stage        text NOT NULL,
    tlp          text NOT NULL,
    received_at  timestamptz NOT NULL,
    body         jsonb NOT NULL
);

CREATE INDEX incident_reports_incident_idx ON incident_reports (incident_id, received_at);
CREATE INDEX incident_reports_org_idx ON incident_reports (org_id, id);

CREATE TABLE incident_tasks (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          uuid NOT NULL CONSTRAINT incident_tasks_id_key UNIQUE,
    incident_id uuid NOT NULL CONSTRAINT incident_tasks_incident_fkey REFERENCES incidents (id),
    body        jsonb NOT NULL
);

CREATE INDEX incident_tasks_incident_idx ON incident_tasks (incident_id, seq);

CREATE TABLE incident_timeline (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id uuid NOT NULL CONSTRAINT incident_timeline_incident_fkey REFERENCES incidents (id),
    at          timestamptz NOT NULL,
    body        jsonb NOT NULL
);

CREATE INDEX incident_timeline_incident_idx ON incident_timeline (incident_id, at, seq);

CREATE TABLE incident_observables (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id uuid NOT NULL CONSTRAINT incident_observables_incident_fkey REFERENCES incidents (id),
    kind        text NOT NULL,
    value       text NOT NULL,
    body        jsonb NOT NULL,
    CONSTRAINT incident_observables_key UNIQUE (incident_id, kind, value)
);

CREATE INDEX incident_observables_value_idx ON incident_observables (kind, value);

-- The feed events each observable matched when it was last matched (shared by every incident
-- holding the observable), at most 1,000 per observable, and how many there were.
CREATE TABLE observable_matches (
    kind       text NOT NULL,
    value      text NOT NULL,
    total      bigint NOT NULL,
    complete   boolean NOT NULL,
    matched_at timestamptz NOT NULL,
    CONSTRAINT observable_matches_pkey PRIMARY KEY (kind, value)
);

CREATE TABLE observable_events (
    kind     text NOT NULL,
    value    text NOT NULL,
    event_id uuid NOT NULL,
    fields   text[] NOT NULL,
    CONSTRAINT observable_events_pkey PRIMARY KEY (kind, value, event_id)
);

CREATE INDEX observable_events_event_idx ON observable_events (event_id);

-- Each link once, in canonical direction (from_id < to_id).
CREATE TABLE incident_links (
    from_id uuid NOT NULL CONSTRAINT incident_links_from_fkey REFERENCES incidents (id),
    to_id   uuid NOT NULL CONSTRAINT incident_links_to_fkey REFERENCES incidents (id),
    kind    text NOT NULL,
    CONSTRAINT incident_links_pkey PRIMARY KEY (from_id, to_id)
);

CREATE INDEX incident_links_to_idx ON incident_links (to_id);

CREATE TABLE evidence (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id uuid NOT NULL CONSTRAINT evidence_incident_fkey REFERENCES incidents (id),
    sha256      text NOT NULL,
    size        bigint NOT NULL,
    body        jsonb NOT NULL,
    CONSTRAINT evidence_key UNIQUE (incident_id, sha256)
);

CREATE INDEX evidence_sha256_idx ON evidence (sha256);

-- Custody chains stay with the incident they were recorded in, also after its evidence moved
-- to another incident in a merge.
CREATE TABLE evidence_custody (
    incident_id uuid NOT NULL,
    sha256      text NOT NULL,
    seq         bigint NOT NULL,
    body        jsonb NOT NULL,
    CONSTRAINT evidence_custody_pkey PRIMARY KEY (incident_id, sha256, seq)
);

CREATE TABLE mail_intake (
    id          uuid PRIMARY KEY,
    received_at timestamptz NOT NULL,
    failed      boolean NOT NULL,
    incident_id uuid CONSTRAINT mail_intake_incident_fkey REFERENCES incidents (id),
    raw_sha256  text NOT NULL,
    raw_size    bigint NOT NULL,
    body        jsonb NOT NULL
);

CREATE INDEX mail_intake_failed_idx ON mail_intake (failed, id);
CREATE INDEX mail_intake_sha256_idx ON mail_intake (raw_sha256);
