-- Co-ordination and governance: strategic documents of the strategy tracker, each stored whole
-- as JSON text (objectives, measures, actions, KPIs) with a version for optimistic concurrency.

CREATE TABLE strategy_documents (
    id         uuid PRIMARY KEY,
    code       text NOT NULL CONSTRAINT strategy_documents_code_key UNIQUE,
    owner_org  uuid NOT NULL CONSTRAINT strategy_documents_owner_fkey REFERENCES organisations (id),
    version    bigint NOT NULL,
    body       text NOT NULL,              -- JSON of neretva_governance::strategy::StrategyDocument
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
