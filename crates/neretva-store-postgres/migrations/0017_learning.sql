-- Capacity building: course versions (stored whole as JSON text), enrolments with their
-- progress, quiz attempts and certificates.

CREATE TABLE learning_courses (
    id          uuid PRIMARY KEY,
    code        text NOT NULL,
    version     bigint NOT NULL,
    body        text NOT NULL,              -- JSON of neretva_learning::course::Course
    imported_at timestamptz NOT NULL,
    CONSTRAINT learning_courses_code_version_key UNIQUE (code, version)
);

CREATE TABLE learning_enrolments (
    id         uuid PRIMARY KEY,
    course_id  uuid NOT NULL REFERENCES learning_courses (id),
    user_id    uuid NOT NULL REFERENCES users (id),
    org_id     uuid NOT NULL REFERENCES organisations (id),
    version    bigint NOT NULL,
    body       text NOT NULL,               -- JSON of neretva_learning::enrolment::Enrolment
    CONSTRAINT learning_enrolments_course_user_key UNIQUE (course_id, user_id)
);
CREATE INDEX learning_enrolments_user ON learning_enrolments (user_id);
CREATE INDEX learning_enrolments_org ON learning_enrolments (org_id);

CREATE TABLE learning_attempts (
    id           uuid PRIMARY KEY,
    enrolment_id uuid NOT NULL REFERENCES learning_enrolments (id),
    number       bigint NOT NULL,
    submitted    boolean NOT NULL,
    body         text NOT NULL,             -- JSON of neretva_learning::quiz::Attempt
    CONSTRAINT learning_attempts_number_key UNIQUE (enrolment_id, number)
);

CREATE TABLE learning_certificates (
    code         text PRIMARY KEY,
    enrolment_id uuid NOT NULL UNIQUE REFERENCES learning_enrolments (id),
    body         text NOT NULL,             -- JSON of neretva_learning::certificate::Certificate
    issued_at    timestamptz NOT NULL
);
