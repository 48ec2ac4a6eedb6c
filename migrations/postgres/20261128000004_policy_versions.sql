-- Every policy document ever activated, numbered 1, 2, … in activation
-- order. Rows are immutable: never updated, never deleted. The active
-- version is the one with the highest number, so activating appends a row,
-- and going back to an earlier policy means activating its document again,
-- which makes it a new number (the history keeps both). Version 1 is the
-- published policy built into the server, inserted at first start.
CREATE TABLE policy_versions (
    number       BIGINT PRIMARY KEY CHECK (number > 0),
    -- The document as activated, byte for byte.
    document     TEXT NOT NULL,
    -- The document's own `version` label (not unique: a document activated
    -- again keeps its label).
    label        TEXT NOT NULL,
    activated_by TEXT NOT NULL,
    activated_at TIMESTAMPTZ NOT NULL,
    note         TEXT NOT NULL
);

-- The policy version each ticket was received under; every later decision
-- about the ticket uses that version. Tickets received before versions
-- existed were decided under the published policy, which is version 1.
-- No foreign key: version 1 is inserted by the server after this runs.
ALTER TABLE tickets ADD COLUMN policy_version_number BIGINT NOT NULL DEFAULT 1;
