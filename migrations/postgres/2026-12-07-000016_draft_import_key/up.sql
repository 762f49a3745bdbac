-- A draft made from a row of an imported inventory remembers which row
-- (the organisation's normalised service name), so that importing the same
-- file again updates the draft instead of making a second one.
ALTER TABLE submission_drafts ADD COLUMN import_key TEXT;
CREATE UNIQUE INDEX submission_drafts_import_key ON submission_drafts (org_slug, import_key)
    WHERE import_key IS NOT NULL;
