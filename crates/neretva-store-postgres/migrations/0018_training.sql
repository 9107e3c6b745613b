-- Train-the-trainer programmes: programmes and sessions (stored whole as JSON text with a
-- version), participants with their attendance, feedback forms (one per session and user),
-- trainer qualifications granted by staff, and learner profiles.

CREATE TABLE learning_programmes (
    id           uuid PRIMARY KEY,
    code         text NOT NULL,
    owner_org_id uuid NOT NULL REFERENCES organisations (id),
    version      bigint NOT NULL,
    body         text NOT NULL,            -- JSON of neretva_learning::training::Programme
    CONSTRAINT learning_programmes_code_key UNIQUE (code)
);

CREATE TABLE learning_sessions (
    id           uuid PRIMARY KEY,
    programme_id uuid NOT NULL REFERENCES learning_programmes (id),
    starts_at    timestamptz NOT NULL,
    version      bigint NOT NULL,
    body         text NOT NULL             -- JSON of neretva_learning::training::Session
);
CREATE INDEX learning_sessions_programme ON learning_sessions (programme_id, starts_at);
CREATE INDEX learning_sessions_start ON learning_sessions (starts_at);

CREATE TABLE learning_participants (
    session_id uuid NOT NULL REFERENCES learning_sessions (id),
    user_id    uuid NOT NULL REFERENCES users (id),
    org_id     uuid NOT NULL REFERENCES organisations (id),
    seq        bigint NOT NULL,            -- registration order within the session
    body       text NOT NULL,              -- JSON of neretva_learning::training::Participant
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX learning_participants_user ON learning_participants (user_id);
CREATE INDEX learning_participants_org ON learning_participants (org_id);

CREATE TABLE learning_feedback (
    id         uuid PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES learning_sessions (id),
    user_id    uuid NOT NULL REFERENCES users (id),
    body       text NOT NULL,              -- JSON of neretva_learning::training::Feedback
    CONSTRAINT learning_feedback_session_user_key UNIQUE (session_id, user_id)
);

CREATE TABLE learning_trainer_grants (
    id           uuid PRIMARY KEY,
    programme_id uuid NOT NULL REFERENCES learning_programmes (id),
    user_id      uuid NOT NULL REFERENCES users (id),
    body         text NOT NULL             -- JSON of neretva_learning::training::TrainerGrant
);
CREATE INDEX learning_trainer_grants_programme ON learning_trainer_grants (programme_id);

CREATE TABLE learning_profiles (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    org_id  uuid NOT NULL REFERENCES organisations (id),
    body    text NOT NULL                  -- JSON of neretva_learning::training::Profile
);
