ALTER TABLE audit_events ADD CONSTRAINT audit_events_prev_hash_key UNIQUE (prev_hash);
ALTER TABLE audit_events ADD CONSTRAINT audit_events_entry_hash_key UNIQUE (entry_hash);
