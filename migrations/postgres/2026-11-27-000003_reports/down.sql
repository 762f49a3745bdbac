DROP INDEX decisions_revision;
DROP INDEX decisions_org;
DROP INDEX evaluations_revision;
DROP TABLE reevaluation_jobs;
DROP TABLE re_reviews;
DROP TABLE rule_sets;
ALTER TABLE evaluations DROP COLUMN rule_outcomes;
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
ALTER TABLE revisions DROP COLUMN risk_class;
