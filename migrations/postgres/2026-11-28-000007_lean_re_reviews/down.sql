CREATE INDEX re_reviews_decision ON re_reviews (decision_id);
