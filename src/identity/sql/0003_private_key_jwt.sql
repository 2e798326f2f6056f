-- private_key_jwt: a client's public key, and the assertion ids already seen.
ALTER TABLE oidc_clients ADD COLUMN public_key TEXT NOT NULL DEFAULT '';

CREATE TABLE oidc_assertions (
  jti_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
