-- Working groups: the main group and its sector sub-groups, each stored whole as JSON text
-- (members, meetings, action items, documents, announcements) with a version for optimistic
-- concurrency.

CREATE TABLE working_groups (
    id           uuid PRIMARY KEY,
    code         text NOT NULL CONSTRAINT working_groups_code_key UNIQUE,
    parent_id    uuid CONSTRAINT working_groups_parent_fkey REFERENCES working_groups (id),
    convener_org uuid NOT NULL CONSTRAINT working_groups_convener_fkey REFERENCES organisations (id),
    version      bigint NOT NULL,
    body         text NOT NULL,              -- JSON of neretva_governance::groups::WorkingGroup
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE INDEX working_groups_parent_idx ON working_groups (parent_id);
