-- Numeric ids of intel attributes, as MISP clients expect them: given once per attribute uuid
-- and never reused, so an attribute keeps its id when its event is rewritten.
-- (An event's numeric id is its `seq`.)

CREATE TABLE intel_attribute_ids (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE
) STRICT;

INSERT INTO intel_attribute_ids (uuid) SELECT uuid FROM intel_attributes ORDER BY rowid;
