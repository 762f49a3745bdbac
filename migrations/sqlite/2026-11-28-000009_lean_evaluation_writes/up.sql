-- A rule change writes one evaluation per revision and a re-review flag per
-- approval that got worse (millions at national scale), so every b-tree each
-- row enters is paid for millions of times.
--
-- evaluations_revision (revision_id, evaluated_at) repeats what the unique
-- (revision_id, rule_set_version) index already serves: every query by
-- revision finds its few evaluations through that one and orders them there.
DROP INDEX evaluations_revision;

-- re_reviews was a rowid table with a separate index for its text primary
-- key: two b-trees before the (decision_id, evaluation_id) one. Stored
-- WITHOUT ROWID, the rows live in the primary key's b-tree (a flag is about
-- 150 bytes, well within what such a table holds well). SQLite cannot change
-- a table's kind, so it is rebuilt with the same rows.
CREATE TABLE re_reviews_lean (
    id TEXT PRIMARY KEY NOT NULL,
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    evaluation_id TEXT NOT NULL REFERENCES evaluations (id),
    flagged_at TIMESTAMP NOT NULL,
    UNIQUE (decision_id, evaluation_id)
) WITHOUT ROWID;
INSERT INTO re_reviews_lean (id, decision_id, evaluation_id, flagged_at)
SELECT id, decision_id, evaluation_id, flagged_at FROM re_reviews ORDER BY id;
DROP TABLE re_reviews;
ALTER TABLE re_reviews_lean RENAME TO re_reviews;
