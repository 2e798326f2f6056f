-- Recovery codes of the second factor: only a keyed hash is kept; each is used once.
CREATE TABLE recovery_codes (
  account_id TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  used_at BIGINT,
  PRIMARY KEY (account_id, code_hash)
);
