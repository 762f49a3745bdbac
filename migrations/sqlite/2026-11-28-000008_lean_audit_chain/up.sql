-- The hash columns of the audit chain carried UNIQUE constraints. Nothing
-- looks an event up by its hash, and the chain cannot fork without them: every
-- append takes audit_head first and writes the next seq (the primary key), and
-- `tillit audit verify` checks that each event links to the one before it.
-- Their two b-trees were keyed by SHA-256 values, so every append dirtied a
-- random page in each; with millions of events that was most of what a large
-- write (seeding, re-evaluation) wrote to disk. SQLite cannot drop a
-- constraint, so the table is rebuilt with the same rows and triggers.
CREATE TABLE audit_events_lean (
    seq BIGINT PRIMARY KEY NOT NULL CHECK (seq >= 1),
    occurred_at TIMESTAMP NOT NULL,
    actor_id TEXT,
    org_slug TEXT,
    via_delegation_id TEXT,
    action TEXT NOT NULL,
    subjects TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
INSERT INTO audit_events_lean (seq, occurred_at, actor_id, org_slug, via_delegation_id, action, subjects, prev_hash, entry_hash)
SELECT seq, occurred_at, actor_id, org_slug, via_delegation_id, action, subjects, prev_hash, entry_hash
FROM audit_events ORDER BY seq;
DROP TABLE audit_events;
ALTER TABLE audit_events_lean RENAME TO audit_events;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
