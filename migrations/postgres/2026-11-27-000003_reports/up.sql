-- Reports and rule-set changes: the rule sets seen, re-review flags raised
-- when a re-evaluation finds an approval's outcome worse, re-evaluation
-- jobs, and each revision's AI Act risk class for filtering.

-- Derived from the document (which the audit digest covers), for filters.
ALTER TABLE revisions ADD COLUMN risk_class TEXT NOT NULL DEFAULT '';
ALTER TABLE revisions DISABLE TRIGGER revisions_content_immutable;
UPDATE revisions SET risk_class = COALESCE(document::jsonb #>> '{assessments,ai_act,risk_class}', '');
ALTER TABLE revisions ENABLE TRIGGER revisions_content_immutable;
CREATE OR REPLACE FUNCTION tillit_revisions_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'revisions are never deleted';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.service_id IS DISTINCT FROM OLD.service_id
       OR NEW.revision IS DISTINCT FROM OLD.revision OR NEW.document IS DISTINCT FROM OLD.document
       OR NEW.document_sha256 IS DISTINCT FROM OLD.document_sha256 OR NEW.name IS DISTINCT FROM OLD.name
       OR NEW.vendor IS DISTINCT FROM OLD.vendor OR NEW.aliases IS DISTINCT FROM OLD.aliases
       OR NEW.domains IS DISTINCT FROM OLD.domains OR NEW.publication IS DISTINCT FROM OLD.publication
       OR NEW.risk_class IS DISTINCT FROM OLD.risk_class
       OR NEW.created_by IS DISTINCT FROM OLD.created_by OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'revisions are immutable; add a new revision instead';
    END IF;
    IF OLD.state = 'submitted' AND (NEW.state IS DISTINCT FROM OLD.state
       OR NEW.submitted_by IS DISTINCT FROM OLD.submitted_by OR NEW.submitted_at IS DISTINCT FROM OLD.submitted_at) THEN
        RAISE EXCEPTION 'a submitted revision is frozen';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- Each evaluation's rule outcomes in a compact form ("R1=pass,R2=fail,…"),
-- derived from its outcome, so that reports need not parse the outcome.
ALTER TABLE evaluations ADD COLUMN rule_outcomes TEXT NOT NULL DEFAULT '';
UPDATE evaluations SET rule_outcomes = COALESCE((
    SELECT string_agg((r ->> 'rule') || '=' || (r ->> 'outcome'), ',' ORDER BY ord)
    FROM jsonb_array_elements(evaluations.outcome::jsonb -> 'rules') WITH ORDINALITY AS x(r, ord)), '');

CREATE TABLE rule_sets (
    version TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sources TEXT NOT NULL,
    registered_at TIMESTAMP NOT NULL
);

CREATE TABLE re_reviews (
    id TEXT PRIMARY KEY,
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    evaluation_id TEXT NOT NULL REFERENCES evaluations (id),
    flagged_at TIMESTAMP NOT NULL,
    UNIQUE (decision_id, evaluation_id)
);
CREATE INDEX re_reviews_decision ON re_reviews (decision_id);

CREATE TABLE reevaluation_jobs (
    id TEXT PRIMARY KEY,
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
