-- Train-the-trainer programmes: programmes and sessions (stored whole as JSON with a version),
-- participants with their attendance, feedback forms (one per session and user), trainer
-- qualifications granted by staff, and learner profiles. Identifiers are UUIDs as text;
-- timestamps are unix microseconds (UTC).

CREATE TABLE learning_programmes (
    id           TEXT PRIMARY KEY NOT NULL,
    code         TEXT NOT NULL UNIQUE,
    owner_org_id TEXT NOT NULL REFERENCES organisations (id),
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL             -- JSON of neretva_learning::training::Programme
) STRICT;

CREATE TABLE learning_sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT NOT NULL REFERENCES learning_programmes (id),
    starts_at    INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL             -- JSON of neretva_learning::training::Session
) STRICT;
CREATE INDEX learning_sessions_programme ON learning_sessions (programme_id, starts_at);
CREATE INDEX learning_sessions_start ON learning_sessions (starts_at);

CREATE TABLE learning_participants (
    session_id TEXT NOT NULL REFERENCES learning_sessions (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    seq        INTEGER NOT NULL,           -- registration order within the session
    body       TEXT NOT NULL,              -- JSON of neretva_learning::training::Participant
    PRIMARY KEY (session_id, user_id)
) STRICT;
CREATE INDEX learning_participants_user ON learning_participants (user_id);
CREATE INDEX learning_participants_org ON learning_participants (org_id);

CREATE TABLE learning_feedback (
    id         TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES learning_sessions (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,              -- JSON of neretva_learning::training::Feedback
    UNIQUE (session_id, user_id)
) STRICT;

CREATE TABLE learning_trainer_grants (
    id           TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT NOT NULL REFERENCES learning_programmes (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    body         TEXT NOT NULL             -- JSON of neretva_learning::training::TrainerGrant
) STRICT;
CREATE INDEX learning_trainer_grants_programme ON learning_trainer_grants (programme_id);

CREATE TABLE learning_profiles (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    org_id  TEXT NOT NULL REFERENCES organisations (id),
    body    TEXT NOT NULL                  -- JSON of neretva_learning::training::Profile
) STRICT;
