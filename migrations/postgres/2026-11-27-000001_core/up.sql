-- Core tables: organisations, people, roles, API tokens, services, revisions,
-- evaluations and the append-only audit log. PostgreSQL dialect; the SQLite
-- mirror lives in ../../sqlite under the same name. Timestamps are UTC.

CREATE TABLE organisations (
    slug TEXT PRIMARY KEY CHECK (slug ~ '^[a-z0-9-]{2,40}$'),
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('municipality', 'federation')),
    function_name TEXT NOT NULL,
    function_email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    name TEXT NOT NULL,
    salt TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deactivated_at TIMESTAMP,
    UNIQUE (org_slug, name)
);

CREATE TABLE role_grants (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('coordinator', 'approver', 'auditor', 'admin')),
    granted_at TIMESTAMP NOT NULL,
    granted_by TEXT REFERENCES users (id),
    revoked_at TIMESTAMP,
    revoked_by TEXT REFERENCES users (id)
);
CREATE UNIQUE INDEX role_grants_one_active ON role_grants (user_id, role) WHERE revoked_at IS NULL;

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE services (
    id TEXT PRIMARY KEY,
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX services_org ON services (org_slug);

CREATE TABLE revisions (
    id TEXT PRIMARY KEY,
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
CREATE FUNCTION tillit_revisions_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'revisions are never deleted';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.service_id IS DISTINCT FROM OLD.service_id
       OR NEW.revision IS DISTINCT FROM OLD.revision OR NEW.document IS DISTINCT FROM OLD.document
       OR NEW.document_sha256 IS DISTINCT FROM OLD.document_sha256 OR NEW.name IS DISTINCT FROM OLD.name
       OR NEW.vendor IS DISTINCT FROM OLD.vendor OR NEW.aliases IS DISTINCT FROM OLD.aliases
       OR NEW.domains IS DISTINCT FROM OLD.domains OR NEW.publication IS DISTINCT FROM OLD.publication
       OR NEW.created_by IS DISTINCT FROM OLD.created_by
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'revisions are immutable; add a new revision instead';
    END IF;
    IF OLD.state = 'submitted' AND (NEW.state IS DISTINCT FROM OLD.state
       OR NEW.submitted_by IS DISTINCT FROM OLD.submitted_by OR NEW.submitted_at IS DISTINCT FROM OLD.submitted_at) THEN
        RAISE EXCEPTION 'a submitted revision is frozen';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER revisions_content_immutable BEFORE UPDATE OR DELETE ON revisions
FOR EACH ROW EXECUTE FUNCTION tillit_revisions_guard();

-- The lookup index reads the search fields of every submitted revision at
-- start-up; this covering index spares it the documents.
CREATE INDEX revisions_search ON revisions (state, service_id, revision) INCLUDE (name, vendor, aliases, domains, publication);

CREATE TABLE evaluations (
    id TEXT PRIMARY KEY,
    revision_id TEXT NOT NULL REFERENCES revisions (id),
    rule_set_version TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
    outcome TEXT NOT NULL,
    evaluated_at TIMESTAMP NOT NULL,
    UNIQUE (revision_id, rule_set_version)
);

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY CHECK (seq >= 1),
    occurred_at TIMESTAMP NOT NULL,
    actor_id TEXT,
    org_slug TEXT,
    via_delegation_id TEXT,
    action TEXT NOT NULL,
    subjects TEXT NOT NULL,
    prev_hash TEXT NOT NULL UNIQUE,
    entry_hash TEXT NOT NULL UNIQUE
);

CREATE FUNCTION tillit_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION tillit_audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION tillit_audit_append_only();

-- One row: the head of the hash chain. Every write transaction locks this row
-- first (SELECT ... FOR UPDATE), which serialises writers and totally orders the chain.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    entry_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, entry_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
