-- Invitations to an authority's staff wait for the invited person: nothing is added to the
-- authority until the owner of the address accepts through the mailed link. Accepted,
-- withdrawn and expired invitations are deleted (the audit log keeps what happened).
CREATE TABLE staff_invitations (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  email TEXT NOT NULL,
  given_name TEXT NOT NULL,
  family_name TEXT NOT NULL,
  role TEXT NOT NULL,
  locale TEXT NOT NULL,
  invited_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX staff_invitations_tenant ON staff_invitations (tenant_id, email);
