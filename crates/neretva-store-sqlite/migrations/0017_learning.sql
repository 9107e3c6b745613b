-- Capacity building: course versions (stored whole as JSON), enrolments with their progress,
-- quiz attempts and certificates. Identifiers are UUIDs as text; timestamps are unix
-- microseconds (UTC).

CREATE TABLE learning_courses (
    id          TEXT PRIMARY KEY NOT NULL,
    code        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,              -- JSON of neretva_learning::course::Course
    imported_at INTEGER NOT NULL,
    UNIQUE (code, version)
) STRICT;

CREATE TABLE learning_enrolments (
    id         TEXT PRIMARY KEY NOT NULL,
    course_id  TEXT NOT NULL REFERENCES learning_courses (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,               -- JSON of neretva_learning::enrolment::Enrolment
    UNIQUE (course_id, user_id)
) STRICT;
CREATE INDEX learning_enrolments_user ON learning_enrolments (user_id);
CREATE INDEX learning_enrolments_org ON learning_enrolments (org_id);

CREATE TABLE learning_attempts (
    id           TEXT PRIMARY KEY NOT NULL,
    enrolment_id TEXT NOT NULL REFERENCES learning_enrolments (id),
    number       INTEGER NOT NULL,
    submitted    INTEGER NOT NULL,          -- 0 or 1
    body         TEXT NOT NULL,             -- JSON of neretva_learning::quiz::Attempt
    UNIQUE (enrolment_id, number)
) STRICT;

CREATE TABLE learning_certificates (
    code         TEXT PRIMARY KEY NOT NULL,
    enrolment_id TEXT NOT NULL UNIQUE REFERENCES learning_enrolments (id),
    body         TEXT NOT NULL,             -- JSON of neretva_learning::certificate::Certificate
    issued_at    INTEGER NOT NULL
) STRICT;
