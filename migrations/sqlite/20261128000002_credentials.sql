-- Mirrors migrations/postgres/20261128000003_credentials.sql: one row per
-- credential, holding only the SHA-256 of its secret.
CREATE TABLE credentials (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('intake', 'dashboard', 'agent', 'admin')),
    channels      TEXT NOT NULL DEFAULT '',
    secret_hash   BLOB NOT NULL,
    create_time   TEXT NOT NULL,
    revoke_time   TEXT,
    last_use_time TEXT
) STRICT;

CREATE UNIQUE INDEX credentials_live_name ON credentials (name) WHERE revoke_time IS NULL;
