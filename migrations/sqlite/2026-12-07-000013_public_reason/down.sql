ALTER TABLE decisions DROP COLUMN public_reason;
