-- The rule-set versions an evaluation is worse than: a JSON array of
-- strings, not comma-joined text. Rule-set versions hold neither commas nor
-- quotes ("2026.1+c87c65eedf32"). The row digest keeps its comma-joined form
-- (`EvaluationRow::write_record`), so digests already in the audit chain hold.
UPDATE evaluations
SET worse_than = CASE WHEN worse_than = '' THEN '[]' ELSE '["' || replace(worse_than, ',', '","') || '"]' END;

-- SQLite adds no CHECK to an existing table without copying it; a trigger
-- refuses the same rows.
CREATE TRIGGER evaluations_worse_than_list BEFORE INSERT ON evaluations
WHEN json_valid(NEW.worse_than) IS NOT 1 OR json_type(NEW.worse_than) IS NOT 'array'
BEGIN
    SELECT RAISE(ABORT, 'evaluations.worse_than must be a JSON array');
END;

CREATE TRIGGER evaluations_worse_than_list_update BEFORE UPDATE OF worse_than ON evaluations
WHEN json_valid(NEW.worse_than) IS NOT 1 OR json_type(NEW.worse_than) IS NOT 'array'
BEGIN
    SELECT RAISE(ABORT, 'evaluations.worse_than must be a JSON array');
END;
