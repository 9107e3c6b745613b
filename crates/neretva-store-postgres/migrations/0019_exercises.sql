-- Tabletop exercises: scenario versions (stored whole as JSON text), exercise runs (JSON with
-- a version), inject deliveries (one per run and inject) and participants' responses (one per
-- run, inject and participant).

CREATE TABLE learning_scenarios (
    id          uuid PRIMARY KEY,
    code        text NOT NULL,
    version     bigint NOT NULL,
    body        text NOT NULL,              -- JSON of neretva_learning::exercise::scenario::Scenario
    imported_at timestamptz NOT NULL,
    CONSTRAINT learning_scenarios_code_version_key UNIQUE (code, version)
);

CREATE TABLE learning_exercises (
    id          uuid PRIMARY KEY,
    scenario_id uuid NOT NULL REFERENCES learning_scenarios (id),
    version     bigint NOT NULL,
    body        text NOT NULL               -- JSON of neretva_learning::exercise::run::Exercise
);

CREATE TABLE learning_exercise_deliveries (
    exercise_id uuid NOT NULL REFERENCES learning_exercises (id),
    inject_id   text NOT NULL,
    seq         bigint NOT NULL,            -- order of recording within the run
    body        text NOT NULL,              -- JSON of neretva_learning::exercise::run::Delivery
    PRIMARY KEY (exercise_id, inject_id)
);

CREATE TABLE learning_exercise_responses (
    id          uuid PRIMARY KEY,
    exercise_id uuid NOT NULL REFERENCES learning_exercises (id),
    inject_id   text NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id),
    body        text NOT NULL,              -- JSON of neretva_learning::exercise::run::Response
    CONSTRAINT learning_exercise_responses_once UNIQUE (exercise_id, inject_id, user_id)
);
