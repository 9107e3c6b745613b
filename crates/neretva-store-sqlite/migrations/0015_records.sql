-- Preservation requests (Budapest Convention Art. 29) and maturity self-assessments (SIM3, NIS2
-- Art. 21), each stored whole as JSON with a version for optimistic concurrency. One shape for
-- both: a unique code (a request's reference), the owning organisation (an assessment's).
-- Identifiers are UUIDs as text; timestamps are unix microseconds (UTC).

CREATE TABLE preservation_requests (
    id         TEXT PRIMARY KEY NOT NULL,
    code       TEXT UNIQUE,
    org_id     TEXT REFERENCES organisations (id),
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,              -- JSON of neretva_governance::preservation::PreservationRequest
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE maturity_assessments (
    id         TEXT PRIMARY KEY NOT NULL,
    code       TEXT UNIQUE,
    org_id     TEXT REFERENCES organisations (id),
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,              -- JSON of neretva_governance::maturity::Assessment
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX maturity_assessments_org ON maturity_assessments (org_id, created_at);
