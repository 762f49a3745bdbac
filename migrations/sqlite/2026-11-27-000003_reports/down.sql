DROP INDEX decisions_revision;
DROP INDEX decisions_org;
DROP INDEX evaluations_revision;
DROP TABLE reevaluation_jobs;
DROP INDEX re_reviews_decision;
DROP TABLE re_reviews;
DROP TABLE rule_sets;
ALTER TABLE evaluations DROP COLUMN rule_outcomes;
DROP TRIGGER revisions_content_immutable;
ALTER TABLE revisions DROP COLUMN risk_class;
CREATE TRIGGER revisions_content_immutable
BEFORE UPDATE OF id, service_id, revision, document, document_sha256, name, vendor, aliases, domains, publication,
    created_by, created_at ON revisions
BEGIN
    SELECT RAISE(ABORT, 'revisions are immutable; add a new revision instead');
END;
