-- One row per credential a calling system holds. The secret itself is never
-- stored: only its SHA-256, which is enough because secrets are 256 random
-- bits (nothing to brute-force, so no slow password hash is needed).
CREATE TABLE credentials (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('intake', 'dashboard', 'agent', 'admin')),
    -- Comma-separated channels an intake credential may create tickets on.
    channels     TEXT NOT NULL DEFAULT '',
    secret_hash  BYTEA NOT NULL,
    create_time  TIMESTAMPTZ NOT NULL,
    revoke_time  TIMESTAMPTZ,
    -- Written in batches, at most every few seconds, not on every call.
    last_use_time TIMESTAMPTZ
);

-- A name picks out one live credential, so operators can revoke by name.
CREATE UNIQUE INDEX credentials_live_name ON credentials (name) WHERE revoke_time IS NULL;
