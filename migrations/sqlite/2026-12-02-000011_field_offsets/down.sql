ALTER TABLE revisions DROP COLUMN field_offsets;
