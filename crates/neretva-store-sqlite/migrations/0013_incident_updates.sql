-- Incident updates through constituent notifications: status changes and reminders of NIS2
-- reports. Each update is recorded once per organisation, incident and topic
-- (`status/resolved`, `reminder/final_report/<due>/60m`), so a pass made again, or by another
-- process, makes none twice. Messages of incident updates name their incident.

ALTER TABLE notify_messages ADD COLUMN incident_id BLOB;

CREATE INDEX notify_messages_incident_idx ON notify_messages (incident_id) WHERE incident_id IS NOT NULL;

-- Ids as text, as the incident tables keep them.
CREATE TABLE notify_announcements (
    org_id      TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    topic       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, incident_id, topic)
) STRICT, WITHOUT ROWID;

-- The statuses incidents have now count as announced: only changes from now on are told.
INSERT INTO notify_announcements (org_id, incident_id, topic, created_at)
SELECT o.org_id, i.id, 'status/' || i.status, CAST(unixepoch('subsec') * 1000000 AS INTEGER)
  FROM incidents i JOIN incident_orgs o ON o.incident_id = i.id;
