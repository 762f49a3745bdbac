-- Where each top-level field's value lies in a revision's document
-- (`key:start:end,…`, byte offsets), derived from the document when it is
-- stored, like risk_class; the row's digest covers the document. A
-- re-evaluation after a rule change parses only the fields the changed
-- rules read, and with these offsets it goes straight to them instead of
-- scanning past every other field. Revisions stored before this migration
-- have none and are scanned as before.
ALTER TABLE revisions ADD COLUMN field_offsets TEXT;
