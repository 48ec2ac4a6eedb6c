-- Customer accounts and the tickets they open. Enumerations are stored as the
-- lower-case text forms the domain defines (Plan::as_str etc.), checked here
-- (except status, see below) so a bad write fails loudly instead of
-- producing an unreadable row.

CREATE TABLE accounts (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    plan         TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'business', 'education', 'api')),
    create_time  TIMESTAMPTZ NOT NULL,
    update_time  TIMESTAMPTZ NOT NULL
);

CREATE TABLE tickets (
    id                        UUID PRIMARY KEY,
    number                    BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    account_id                TEXT NOT NULL REFERENCES accounts (id),
    -- The account's plan at receipt; later plan changes do not touch it.
    plan                      TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'business', 'education', 'api')),
    channel                   TEXT NOT NULL CHECK (channel IN ('web_form', 'chat', 'phone')),
    contact_email             TEXT,
    contact_name              TEXT,
    chat_session_id           TEXT,
    transcript_uri            TEXT,
    first_message             TEXT,
    call_id                   TEXT,
    caller_number             TEXT,
    dialed_number             TEXT,
    region                    TEXT CHECK (region IN ('us', 'au', 'uk')),
    subject                   TEXT NOT NULL,
    description               TEXT NOT NULL,
    request_kind              TEXT NOT NULL CHECK (request_kind IN ('problem', 'information', 'assistance', 'feature', 'change', 'prerelease_access')),
    impact_scope              TEXT CHECK (impact_scope IN ('service_down', 'degraded', 'function_impaired', 'minimal')),
    workaround                TEXT CHECK (workaround IN ('none', 'partial', 'full')),
    priority                  TEXT NOT NULL CHECK (priority IN ('p1', 'p2', 'p3', 'p4')),
    priority_rule_id          TEXT NOT NULL,
    priority_rule_description TEXT NOT NULL,
    -- Unchecked on purpose: the lifecycle adds statuses, and SQLite cannot
    -- alter a CHECK without rebuilding the table.
    status                    TEXT NOT NULL,
    received_at               TIMESTAMPTZ NOT NULL,
    response_target_seconds   BIGINT NOT NULL CHECK (response_target_seconds > 0),
    response_due_at           TIMESTAMPTZ NOT NULL,
    policy_version            TEXT NOT NULL,
    -- AIP-155 idempotency key, unique per account: one tenant's keys never
    -- collide with, or reveal, another's.
    request_id                TEXT,
    -- The response SLA clock: AT_RISK from at_risk_at, BREACHED past
    -- response_due_at, stopped by the first response.
    at_risk_at                TIMESTAMPTZ NOT NULL,
    first_response_at         TIMESTAMPTZ,
    first_responder           TEXT,
    first_response_method     TEXT CHECK (first_response_method IN ('email', 'chat_message', 'phone_call', 'web_portal')),
    sla_state                 TEXT NOT NULL CHECK (sla_state IN ('on_track', 'at_risk', 'breached', 'met', 'missed')),
    -- When the recorded sla_state next changes by time alone; NULL once final.
    next_sla_check_at         TIMESTAMPTZ,
    -- Every write is conditional on it, so concurrent writers (replicas,
    -- the breach sweeper) cannot both record one transition.
    version                   BIGINT NOT NULL,
    CONSTRAINT one_ticket_per_request UNIQUE (account_id, request_id),
    CONSTRAINT web_form_origin_complete CHECK (channel <> 'web_form' OR contact_email IS NOT NULL),
    CONSTRAINT chat_origin_complete CHECK (
        channel <> 'chat'
        OR (chat_session_id IS NOT NULL AND (transcript_uri IS NOT NULL OR first_message IS NOT NULL))
    ),
    CONSTRAINT phone_origin_complete CHECK (
        channel <> 'phone'
        OR (call_id IS NOT NULL AND caller_number IS NOT NULL AND dialed_number IS NOT NULL AND region IS NOT NULL)
    ),
    CONSTRAINT due_after_receipt CHECK (response_due_at > received_at)
);

-- ListTickets pages newest first by number; these serve its filters.
CREATE INDEX tickets_account_number ON tickets (account_id, number DESC);
CREATE INDEX tickets_status_number ON tickets (status, number DESC);
CREATE INDEX tickets_channel_number ON tickets (channel, number DESC);
CREATE INDEX tickets_priority_number ON tickets (priority, number DESC);
-- Open tickets by deadline, for SLA queries.
CREATE INDEX tickets_open_due ON tickets (response_due_at) WHERE status = 'new';
-- Compliance reports select by receipt period.
CREATE INDEX tickets_received ON tickets (received_at);
-- The breach sweeper's queue.
CREATE INDEX tickets_next_sla_check ON tickets (next_sla_check_at) WHERE next_sla_check_at IS NOT NULL;

-- Each ticket's durable, ordered history.
CREATE TABLE ticket_events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id     UUID NOT NULL REFERENCES tickets (id),
    kind          TEXT NOT NULL CHECK (kind IN ('received', 'status_changed', 'priority_changed', 'deadline_recalculated', 'at_risk', 'breached', 'first_response')),
    actor         TEXT NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL,
    sla_state     TEXT NOT NULL,
    from_status   TEXT,
    to_status     TEXT,
    from_priority TEXT,
    to_priority   TEXT,
    from_due_at   TIMESTAMPTZ,
    to_due_at     TIMESTAMPTZ,
    note          TEXT
);

CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket_id, id);

-- One satisfaction survey per resolution; answered at most once.
CREATE TABLE surveys (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token       TEXT NOT NULL UNIQUE,
    ticket_id   UUID NOT NULL REFERENCES tickets (id),
    issued_at   TIMESTAMPTZ NOT NULL,
    rating      TEXT CHECK (rating IN ('good', 'bad')),
    comment     TEXT,
    answered_at TIMESTAMPTZ,
    CONSTRAINT answered_completely CHECK ((rating IS NULL) = (answered_at IS NULL))
);

CREATE INDEX surveys_by_ticket ON surveys (ticket_id, id);

-- Professional-services requests: their own queue and statuses, no SLA.
CREATE TABLE service_requests (
    id             UUID PRIMARY KEY,
    number         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    kind           TEXT NOT NULL CHECK (kind IN ('training', 'consulting', 'branding', 'implementation', 'custom_solution', 'development')),
    summary        TEXT NOT NULL,
    details        TEXT NOT NULL,
    contact_email  TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('submitted', 'in_review', 'scheduled', 'completed', 'declined')),
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    request_id     TEXT,
    version        BIGINT NOT NULL,
    CONSTRAINT one_service_request_per_request UNIQUE (account_id, request_id)
);

CREATE INDEX service_requests_status_number ON service_requests (status, number DESC);
CREATE INDEX service_requests_account_number ON service_requests (account_id, number DESC);
