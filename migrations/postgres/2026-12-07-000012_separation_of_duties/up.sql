-- Everyone who saved a draft wrote the revision made from it.
CREATE TABLE draft_contributors (
    draft_id TEXT NOT NULL REFERENCES submission_drafts (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (draft_id, user_id)
);
INSERT INTO draft_contributors (draft_id, user_id)
SELECT id, created_by FROM submission_drafts
UNION SELECT id, updated_by FROM submission_drafts;

-- The people who wrote a revision: whoever created it, and everyone who
-- saved the draft it was made from. Covered by the audit chain.
CREATE TABLE revision_contributors (
    id TEXT PRIMARY KEY NOT NULL,
    revision_id TEXT NOT NULL REFERENCES revisions (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    UNIQUE (revision_id, user_id)
);
CREATE INDEX revision_contributors_user ON revision_contributors (user_id);

-- Nobody grants themself a role (rows from before this rule stay readable).
ALTER TABLE role_grants ADD CONSTRAINT role_grants_not_to_oneself
    CHECK (granted_by IS NULL OR granted_by <> user_id) NOT VALID;

-- A decision is never taken by someone who wrote, edited or submitted a
-- revision of the service, nor by an approver whose approver role was
-- granted by such a person (the service refuses both first; this is the
-- database's own guard).
CREATE FUNCTION tillit_decisions_separation() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM revisions r
        WHERE r.service_id = NEW.service_id
          AND (r.created_by = NEW.decided_by OR r.submitted_by = NEW.decided_by
               OR EXISTS (SELECT 1 FROM revision_contributors c WHERE c.revision_id = r.id AND c.user_id = NEW.decided_by)
               OR EXISTS (
                   SELECT 1 FROM role_grants g
                   WHERE g.user_id = NEW.decided_by AND g.role = 'approver' AND g.revoked_at IS NULL
                     AND (g.granted_by = r.created_by OR g.granted_by = r.submitted_by
                          OR g.granted_by IN (SELECT c.user_id FROM revision_contributors c WHERE c.revision_id = r.id))))
    ) THEN
        RAISE EXCEPTION 'separation_of_duties: the approver or the grantor of their role wrote the service';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER decisions_separation_of_duties BEFORE INSERT ON decisions
FOR EACH ROW EXECUTE FUNCTION tillit_decisions_separation();

-- Setting a password and linking a sign-on identity are audit events from
-- now on. Rows from before are listed here, and recorded in the chain by one
-- event when the upgraded database is first opened (then this list is empty).
CREATE TABLE unrecorded_credentials (
    table_name TEXT NOT NULL CHECK (table_name IN ('password_credentials', 'sso_identities')),
    row_id TEXT NOT NULL,
    PRIMARY KEY (table_name, row_id)
);
INSERT INTO unrecorded_credentials (table_name, row_id) SELECT 'password_credentials', user_id FROM password_credentials;
INSERT INTO unrecorded_credentials (table_name, row_id) SELECT 'sso_identities', issuer || ' ' || subject FROM sso_identities;
