-- Mirrors migrations/postgres/20261128000004_policy_versions.sql: immutable,
-- numbered policy versions; the highest number is the active one (going back
-- is activating an old document again, as a new number).
CREATE TABLE policy_versions (
    number       INTEGER PRIMARY KEY CHECK (number > 0),
    document     TEXT NOT NULL,
    label        TEXT NOT NULL,
    activated_by TEXT NOT NULL,
    activated_at TEXT NOT NULL,
    note         TEXT NOT NULL
) STRICT;

-- The policy version each ticket was received under (1, the published
-- policy, for tickets received before versions existed).
ALTER TABLE tickets ADD COLUMN policy_version_number INTEGER NOT NULL DEFAULT 1;
