-- Reports and rule-set changes: the rule sets seen, re-review flags raised
-- when a re-evaluation finds an approval's outcome worse, re-evaluation
-- jobs, and each revision's AI Act risk class for filtering.

-- Derived from the document (which the audit digest covers), for filters.
ALTER TABLE revisions ADD COLUMN risk_class TEXT NOT NULL DEFAULT '';
DROP TRIGGER revisions_content_immutable;
UPDATE revisions SET risk_class = COALESCE(json_extract(document, '$.assessments.ai_act.risk_class'), '');
CREATE TRIGGER revisions_content_immutable
BEFORE UPDATE OF id, service_id, revision, document, document_sha256, name, vendor, aliases, domains, publication,
    risk_class, created_by, created_at ON revisions
BEGIN
    SELECT RAISE(ABORT, 'revisions are immutable; add a new revision instead');
END;

-- Each evaluation's rule outcomes in a compact form ("R1=pass,R2=fail,…"),
-- derived from its outcome, so that reports need not parse the outcome.
ALTER TABLE evaluations ADD COLUMN rule_outcomes TEXT NOT NULL DEFAULT '';
UPDATE evaluations SET rule_outcomes = COALESCE((
    SELECT group_concat(json_extract(value, '$.rule') || '=' || json_extract(value, '$.outcome'), ',')
    FROM json_each(evaluations.outcome, '$.rules')), '');

CREATE TABLE rule_sets (
    version TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    sources TEXT NOT NULL,
    registered_at TIMESTAMP NOT NULL
);

CREATE TABLE re_reviews (
    id TEXT PRIMARY KEY NOT NULL,
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    evaluation_id TEXT NOT NULL REFERENCES evaluations (id),
    flagged_at TIMESTAMP NOT NULL,
    UNIQUE (decision_id, evaluation_id)
);
CREATE INDEX re_reviews_decision ON re_reviews (decision_id);

CREATE TABLE reevaluation_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    rule_set_version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    total BIGINT NOT NULL,
    done BIGINT NOT NULL,
    flagged BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);

CREATE INDEX evaluations_revision ON evaluations (revision_id, evaluated_at);
CREATE INDEX decisions_org ON decisions (org_slug, service_id);
CREATE INDEX decisions_revision ON decisions (revision_id);
