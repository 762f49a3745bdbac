-- The rule-set versions an evaluation is worse than: a JSON array of
-- strings, not comma-joined text. Rule-set versions hold neither commas nor
-- quotes ("2026.1+c87c65eedf32"). The row digest keeps its comma-joined form
-- (`EvaluationRow::write_record`), so digests already in the audit chain hold.
UPDATE evaluations
SET worse_than = CASE WHEN worse_than = '' THEN '[]' ELSE '["' || replace(worse_than, ',', '","') || '"]' END;
ALTER TABLE evaluations ALTER COLUMN worse_than SET DEFAULT '[]';
ALTER TABLE evaluations ADD CONSTRAINT evaluations_worse_than_list CHECK (json_typeof(worse_than::json) = 'array');
