DROP INDEX submission_drafts_import_key;
ALTER TABLE submission_drafts DROP COLUMN import_key;
