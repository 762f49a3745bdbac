-- The hash columns of the audit chain carried UNIQUE constraints. Nothing
-- looks an event up by its hash, and the chain cannot fork without them: every
-- append locks audit_head first and writes the next seq (the primary key), and
-- `tillit audit verify` checks that each event links to the one before it.
-- Their two b-trees were keyed by SHA-256 values, so every append dirtied a
-- random page in each; with millions of events that was most of what a large
-- write (seeding, re-evaluation) wrote to disk.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_prev_hash_key;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_entry_hash_key;
