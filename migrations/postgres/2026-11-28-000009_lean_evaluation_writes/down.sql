CREATE INDEX evaluations_revision ON evaluations (revision_id, evaluated_at);
