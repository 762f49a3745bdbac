ALTER TABLE evaluations DROP CONSTRAINT evaluations_worse_than_list;
ALTER TABLE evaluations ALTER COLUMN worse_than SET DEFAULT '';
UPDATE evaluations
SET worse_than = COALESCE((SELECT string_agg(v, ',' ORDER BY n) FROM json_array_elements_text(worse_than::json) WITH ORDINALITY AS x(v, n)), '');
