-- The OpenID Connect provider: registered clients, signing keys, codes and tokens.
CREATE TABLE oidc_clients (
  client_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  is_public INTEGER NOT NULL,
  redirect_uris TEXT NOT NULL,
  post_logout_uris TEXT NOT NULL,
  scopes TEXT NOT NULL,
  grants TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE oidc_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  private_key TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  retired_at BIGINT
);

-- Only hashes of codes and tokens are stored.
CREATE TABLE oidc_codes (
  code_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  scope TEXT NOT NULL,
  nonce TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  acr TEXT NOT NULL,
  auth_time BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);

CREATE TABLE oidc_tokens (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  client_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  acr TEXT NOT NULL,
  auth_time BIGINT NOT NULL,
  origin TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX oidc_tokens_origin ON oidc_tokens (origin);
