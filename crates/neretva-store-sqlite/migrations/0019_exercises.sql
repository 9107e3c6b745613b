-- Tabletop exercises: scenario versions (stored whole as JSON), exercise runs (JSON with a
-- version), inject deliveries (one per run and inject) and participants' responses (one per
-- run, inject and participant). Identifiers are UUIDs as text.

CREATE TABLE learning_scenarios (
    id          TEXT PRIMARY KEY NOT NULL,
    code        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,              -- JSON of neretva_learning::exercise::scenario::Scenario
    imported_at INTEGER NOT NULL,
    UNIQUE (code, version)
) STRICT;

CREATE TABLE learning_exercises (
    id          TEXT PRIMARY KEY NOT NULL,
    scenario_id TEXT NOT NULL REFERENCES learning_scenarios (id),
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL               -- JSON of neretva_learning::exercise::run::Exercise
) STRICT;

CREATE TABLE learning_exercise_deliveries (
    exercise_id TEXT NOT NULL REFERENCES learning_exercises (id),
    inject_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,           -- order of recording within the run
    body        TEXT NOT NULL,              -- JSON of neretva_learning::exercise::run::Delivery
    PRIMARY KEY (exercise_id, inject_id)
) STRICT;

CREATE TABLE learning_exercise_responses (
    id          TEXT PRIMARY KEY NOT NULL,
    exercise_id TEXT NOT NULL REFERENCES learning_exercises (id),
    inject_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    body        TEXT NOT NULL,              -- JSON of neretva_learning::exercise::run::Response
    UNIQUE (exercise_id, inject_id, user_id)
) STRICT;
