DROP TABLE unrecorded_credentials;
DROP TRIGGER decisions_separation_of_duties ON decisions;
DROP FUNCTION tillit_decisions_separation();
ALTER TABLE role_grants DROP CONSTRAINT role_grants_not_to_oneself;
DROP TABLE revision_contributors;
DROP TABLE draft_contributors;
