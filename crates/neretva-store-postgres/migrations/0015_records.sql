-- Preservation requests (Budapest Convention Art. 29) and maturity self-assessments (SIM3, NIS2
-- Art. 21), each stored whole as JSON text with a version for optimistic concurrency. One shape
-- for both: a unique code (a request's reference), the owning organisation (an assessment's).

CREATE TABLE preservation_requests (
    id         uuid PRIMARY KEY,
    code       text CONSTRAINT preservation_requests_code_key UNIQUE,
    org_id     uuid CONSTRAINT preservation_requests_org_fkey REFERENCES organisations (id),
    version    bigint NOT NULL,
    body       text NOT NULL,              -- JSON of neretva_governance::preservation::PreservationRequest
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE maturity_assessments (
    id         uuid PRIMARY KEY,
    code       text CONSTRAINT maturity_assessments_code_key UNIQUE,
    org_id     uuid CONSTRAINT maturity_assessments_org_fkey REFERENCES organisations (id),
    version    bigint NOT NULL,
    body       text NOT NULL,              -- JSON of neretva_governance::maturity::Assessment
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX maturity_assessments_org ON maturity_assessments (org_id, created_at);
