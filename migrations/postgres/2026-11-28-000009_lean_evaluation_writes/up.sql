-- A rule change writes one evaluation per revision (millions at national
-- scale), so every index each row enters is paid for millions of times.
-- evaluations_revision (revision_id, evaluated_at) repeats what the unique
-- (revision_id, rule_set_version) index already serves: every query by
-- revision finds its few evaluations through that one. (The SQLite mirror of
-- this migration also stores re_reviews WITHOUT ROWID; a PostgreSQL table is
-- a heap with its indexes either way, so nothing changes for it here.)
DROP INDEX evaluations_revision;
