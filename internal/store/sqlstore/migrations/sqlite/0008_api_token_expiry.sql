-- API tokens may expire: NULL means never. Unix microseconds like every
-- other time column.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
