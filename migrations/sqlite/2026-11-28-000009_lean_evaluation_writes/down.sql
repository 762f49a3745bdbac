CREATE TABLE re_reviews_rowid (
    id TEXT PRIMARY KEY NOT NULL,
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    evaluation_id TEXT NOT NULL REFERENCES evaluations (id),
    flagged_at TIMESTAMP NOT NULL,
    UNIQUE (decision_id, evaluation_id)
);
INSERT INTO re_reviews_rowid (id, decision_id, evaluation_id, flagged_at)
SELECT id, decision_id, evaluation_id, flagged_at FROM re_reviews ORDER BY id;
DROP TABLE re_reviews;
ALTER TABLE re_reviews_rowid RENAME TO re_reviews;

CREATE INDEX evaluations_revision ON evaluations (revision_id, evaluated_at);
