-- A token may carry its own request rate (requests per minute) instead of the server's
-- default. Existing tokens carry none: they keep the default.
ALTER TABLE tokens ADD COLUMN rate_limit INTEGER CHECK (rate_limit IS NULL OR rate_limit > 0);
