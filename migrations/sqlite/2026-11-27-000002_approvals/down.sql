DROP TABLE idempotency_keys;
DROP TRIGGER decisions_no_delete;
DROP TRIGGER decisions_revocation_final;
DROP TRIGGER decisions_content_immutable;
DROP TABLE decisions;
DROP TABLE delegations;
