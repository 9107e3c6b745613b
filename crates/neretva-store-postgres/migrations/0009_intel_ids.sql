-- Numeric ids of intel attributes and sharing groups, as MISP clients expect them: given once
-- per uuid and never reused, so an attribute keeps its id when its event is rewritten.
-- (An event's numeric id is its `seq`.)

CREATE TABLE intel_numeric_ids (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid text NOT NULL UNIQUE
);

INSERT INTO intel_numeric_ids (uuid) SELECT uuid FROM intel_attributes ORDER BY uuid;
INSERT INTO intel_numeric_ids (uuid) SELECT uuid FROM intel_sharing_groups ORDER BY uuid;
