CREATE TABLE audit_events_unique (
    seq BIGINT PRIMARY KEY NOT NULL CHECK (seq >= 1),
    occurred_at TIMESTAMP NOT NULL,
    actor_id TEXT,
    org_slug TEXT,
    via_delegation_id TEXT,
    action TEXT NOT NULL,
    subjects TEXT NOT NULL,
    prev_hash TEXT NOT NULL UNIQUE,
    entry_hash TEXT NOT NULL UNIQUE
);
INSERT INTO audit_events_unique (seq, occurred_at, actor_id, org_slug, via_delegation_id, action, subjects, prev_hash, entry_hash)
SELECT seq, occurred_at, actor_id, org_slug, via_delegation_id, action, subjects, prev_hash, entry_hash
FROM audit_events ORDER BY seq;
DROP TABLE audit_events;
ALTER TABLE audit_events_unique RENAME TO audit_events;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
