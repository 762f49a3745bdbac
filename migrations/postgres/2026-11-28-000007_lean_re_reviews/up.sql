-- The unique (decision_id, evaluation_id) index already serves every lookup
-- by decision; a second index on decision_id alone only cost a b-tree
-- insert per re-review flag (a rule change can flag millions).
DROP INDEX re_reviews_decision;
