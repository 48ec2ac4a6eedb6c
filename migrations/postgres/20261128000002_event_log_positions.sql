-- WatchSlaStatus reads the event log in commit order, and resumes from a
-- cursor. Identity values are handed out before commit, so a reader that
-- orders by id alone can pass an event whose transaction commits late and
-- never see it. Each event records the id of the transaction that wrote it;
-- readers take only events of transactions older than every transaction of
-- this database still running, ordered by (txid, id). A default, so the
-- write path sends nothing extra.
ALTER TABLE ticket_events
    ADD COLUMN txid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);

CREATE INDEX ticket_events_log_position ON ticket_events (txid, id);
