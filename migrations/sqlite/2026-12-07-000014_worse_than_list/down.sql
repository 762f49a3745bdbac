DROP TRIGGER evaluations_worse_than_list_update;
DROP TRIGGER evaluations_worse_than_list;
UPDATE evaluations
SET worse_than = COALESCE((SELECT group_concat(value, ',') FROM json_each(evaluations.worse_than)), '');
