ALTER TABLE evaluations DROP COLUMN worse_than;
