-- The reason a decision gives the public (shown on the lookup page and the
-- public register); the reason column stays the internal one.
ALTER TABLE decisions ADD COLUMN public_reason TEXT;
