DROP TABLE idempotency_keys;
DROP TABLE decisions;
DROP FUNCTION tillit_decisions_guard();
DROP TABLE delegations;
