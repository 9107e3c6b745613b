-- Co-ordination and governance: strategic documents of the strategy tracker, each stored whole
-- as JSON (objectives, measures, actions, KPIs) with a version for optimistic concurrency.
-- Identifiers are UUIDs as text; timestamps are unix microseconds (UTC).

CREATE TABLE strategy_documents (
    id         TEXT PRIMARY KEY NOT NULL,
    code       TEXT NOT NULL UNIQUE,
    owner_org  TEXT NOT NULL REFERENCES organisations (id),
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,              -- JSON of neretva_governance::strategy::StrategyDocument
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
