DROP TABLE unrecorded_credentials;
DROP TRIGGER decisions_separation_of_duties;
DROP TRIGGER role_grants_not_to_oneself;
DROP TABLE revision_contributors;
DROP TABLE draft_contributors;
