-- Drafts of the web submission form: the coordinator's working copy, which
-- may be incomplete and need not follow the schema. A draft becomes a
-- revision (and is deleted) only when it is complete; until then it is
-- private to its organisation's coordinators and never evaluated for a
-- decision. service_id is set when the draft is a new version of an
-- existing service.
CREATE TABLE submission_drafts (
    id TEXT PRIMARY KEY NOT NULL,
    org_slug TEXT NOT NULL REFERENCES organisations (slug),
    service_id TEXT REFERENCES services (id),
    document TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX submission_drafts_org ON submission_drafts (org_slug, updated_at);
