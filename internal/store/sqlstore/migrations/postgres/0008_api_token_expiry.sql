-- API tokens may expire: NULL means never.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
