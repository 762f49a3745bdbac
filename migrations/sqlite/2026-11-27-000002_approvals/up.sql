-- Approval workflow: delegations to a federation, decisions per organisation,
-- and idempotency records. SQLite dialect; mirrored in ../../postgres.

CREATE TABLE delegations (
    id TEXT PRIMARY KEY NOT NULL,
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    delegate_slug TEXT NOT NULL REFERENCES organisations (slug),
    decision_reference TEXT NOT NULL,
    valid_from DATE NOT NULL,
    valid_until DATE,
    scope TEXT NOT NULL CHECK (scope = 'all'),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by TEXT REFERENCES users (id),
    revocation_reason TEXT,
    CHECK (org_slug <> delegate_slug),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX delegations_org ON delegations (org_slug);

CREATE TABLE decisions (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    revision_id TEXT NOT NULL REFERENCES revisions (id),
    revision INTEGER NOT NULL,
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    decision TEXT NOT NULL CHECK (decision IN ('approved', 'approved_with_conditions', 'rejected')),
    conditions TEXT NOT NULL,
    reason TEXT,
    valid_until DATE,
    decision_reference TEXT,
    decided_by TEXT NOT NULL REFERENCES users (id),
    deciding_org_slug TEXT NOT NULL REFERENCES organisations (slug),
    via_delegation_id TEXT REFERENCES delegations (id),
    submitted_by TEXT NOT NULL REFERENCES users (id),
    rule_set_version TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
    decided_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by TEXT REFERENCES users (id),
    revocation_reason TEXT,
    -- Separation of duties, kept by the database too.
    CHECK (decided_by <> submitted_by),
    CHECK (decision <> 'rejected' OR (reason IS NOT NULL AND length(trim(reason)) > 0)),
    CHECK (decision = 'rejected' OR verdict = 'pass'),
    CHECK ((via_delegation_id IS NULL) = (deciding_org_slug = org_slug))
);
-- At most one live decision per service, organisation and revision.
CREATE UNIQUE INDEX decisions_one_live ON decisions (service_id, org_slug, revision) WHERE revoked_at IS NULL;
CREATE INDEX decisions_service ON decisions (service_id);

-- Decisions are never edited: only the revocation columns may be set, once.
CREATE TRIGGER decisions_content_immutable
BEFORE UPDATE OF id, service_id, revision_id, revision, org_slug, decision, conditions, reason, valid_until,
    decision_reference, decided_by, deciding_org_slug, via_delegation_id, submitted_by, rule_set_version,
    verdict, decided_at ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are never edited; revoke and decide again');
END;
CREATE TRIGGER decisions_revocation_final
BEFORE UPDATE OF revoked_at, revoked_by, revocation_reason ON decisions WHEN OLD.revoked_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a revoked decision stays revoked');
END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are never deleted');
END;

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    location TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
