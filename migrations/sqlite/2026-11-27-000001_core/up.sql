-- Core tables: organisations, people, roles, API tokens, services, revisions,
-- evaluations and the append-only audit log. SQLite dialect; the PostgreSQL
-- mirror lives in ../../postgres under the same name.

CREATE TABLE organisations (
    slug TEXT PRIMARY KEY NOT NULL CHECK (length(slug) BETWEEN 2 AND 40 AND slug NOT GLOB '*[^a-z0-9-]*'),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('municipality', 'federation')),
    function_name TEXT NOT NULL,
    function_email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    name TEXT NOT NULL,
    salt TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deactivated_at TIMESTAMP,
    UNIQUE (org_slug, name)
);

CREATE TABLE role_grants (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('coordinator', 'approver', 'auditor', 'admin')),
    granted_at TIMESTAMP NOT NULL,
    granted_by TEXT REFERENCES users (id),
    revoked_at TIMESTAMP,
    revoked_by TEXT REFERENCES users (id)
);
CREATE UNIQUE INDEX role_grants_one_active ON role_grants (user_id, role) WHERE revoked_at IS NULL;

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE services (
    id TEXT PRIMARY KEY NOT NULL,
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX services_org ON services (org_slug);

CREATE TABLE revisions (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    revision INTEGER NOT NULL CHECK (revision >= 1),
    document TEXT NOT NULL,
    document_sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    vendor TEXT NOT NULL,
    -- Search fields, copied from the document when the revision is created.
    aliases TEXT NOT NULL,
    domains TEXT NOT NULL,
    publication TEXT NOT NULL CHECK (publication IN ('published', 'internal_only', 'withheld')),
    state TEXT NOT NULL CHECK (state IN ('draft', 'submitted')),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    submitted_by TEXT REFERENCES users (id),
    submitted_at TIMESTAMP,
    UNIQUE (service_id, revision)
);

-- A revision is never edited: its content and authorship are frozen by the database.
CREATE TRIGGER revisions_content_immutable
BEFORE UPDATE OF id, service_id, revision, document, document_sha256, name, vendor, aliases, domains, publication,
    created_by, created_at ON revisions
BEGIN
    SELECT RAISE(ABORT, 'revisions are immutable; add a new revision instead');
END;
CREATE TRIGGER revisions_submission_final
BEFORE UPDATE OF state, submitted_by, submitted_at ON revisions WHEN OLD.state = 'submitted'
BEGIN
    SELECT RAISE(ABORT, 'a submitted revision is frozen');
END;
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
BEGIN
    SELECT RAISE(ABORT, 'revisions are never deleted');
END;

-- The lookup index reads the search fields of every submitted revision at
-- start-up; this covering index spares it the documents.
CREATE INDEX revisions_search ON revisions (state, service_id, revision, name, vendor, aliases, domains, publication);

CREATE TABLE evaluations (
    id TEXT PRIMARY KEY NOT NULL,
    revision_id TEXT NOT NULL REFERENCES revisions (id),
    rule_set_version TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
    outcome TEXT NOT NULL,
    evaluated_at TIMESTAMP NOT NULL,
    UNIQUE (revision_id, rule_set_version)
);

CREATE TABLE audit_events (
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

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

-- One row: the head of the hash chain. Every write transaction takes this row
-- first, which serialises writers and totally orders the chain.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    entry_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, entry_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
