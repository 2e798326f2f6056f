-- Upstream identity providers: logins in progress, and identities linked to accounts.
CREATE TABLE upstream_requests (
  id TEXT PRIMARY KEY,
  upstream TEXT NOT NULL,
  browser_hash TEXT NOT NULL,
  started_by TEXT NOT NULL,
  minimum_level TEXT NOT NULL,
  next TEXT NOT NULL,
  nonce TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  result TEXT,
  failure TEXT,
  expires_at BIGINT NOT NULL,
  finished_at BIGINT
);
CREATE INDEX upstream_requests_expiry ON upstream_requests (expires_at);

-- Only a hash of the upstream's subject is kept: enough to recognise the person again.
CREATE TABLE identity_links (
  upstream TEXT NOT NULL,
  subject_hash TEXT NOT NULL,
  account_id TEXT NOT NULL,
  level TEXT NOT NULL,
  method TEXT NOT NULL,
  linked_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  PRIMARY KEY (upstream, subject_hash)
);
CREATE UNIQUE INDEX identity_links_account ON identity_links (account_id, upstream);
