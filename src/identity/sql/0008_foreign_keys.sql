-- Foreign keys inside identity's schema (SQLite enforces them: PRAGMA foreign_keys=ON).
-- Neither database adds a key to a table in place the same way, so each table is made
-- anew with its keys, after rows that name a missing account, tenant or organisation
-- (left behind by deletions before this version) are dropped.

DELETE FROM account_roles
 WHERE account_id NOT IN (SELECT id FROM accounts) OR tenant_id NOT IN (SELECT id FROM tenants);
CREATE TABLE account_roles_new (
  account_id TEXT NOT NULL REFERENCES accounts (id),
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  role TEXT NOT NULL,
  PRIMARY KEY (account_id, tenant_id, role)
);
INSERT INTO account_roles_new (account_id, tenant_id, role)
  SELECT account_id, tenant_id, role FROM account_roles;
DROP TABLE account_roles;
ALTER TABLE account_roles_new RENAME TO account_roles;

DELETE FROM email_tokens WHERE account_id NOT IN (SELECT id FROM accounts);
CREATE TABLE email_tokens_new (
  token_hash TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  purpose TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
INSERT INTO email_tokens_new (token_hash, account_id, purpose, expires_at, used_at)
  SELECT token_hash, account_id, purpose, expires_at, used_at FROM email_tokens;
DROP TABLE email_tokens;
ALTER TABLE email_tokens_new RENAME TO email_tokens;
CREATE INDEX email_tokens_account ON email_tokens (account_id);

DELETE FROM recovery_codes WHERE account_id NOT IN (SELECT id FROM accounts);
CREATE TABLE recovery_codes_new (
  account_id TEXT NOT NULL REFERENCES accounts (id),
  code_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  used_at BIGINT,
  PRIMARY KEY (account_id, code_hash)
);
INSERT INTO recovery_codes_new (account_id, code_hash, created_at, used_at)
  SELECT account_id, code_hash, created_at, used_at FROM recovery_codes;
DROP TABLE recovery_codes;
ALTER TABLE recovery_codes_new RENAME TO recovery_codes;

DELETE FROM identity_links WHERE account_id NOT IN (SELECT id FROM accounts);
CREATE TABLE identity_links_new (
  upstream TEXT NOT NULL,
  subject_hash TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  level TEXT NOT NULL,
  method TEXT NOT NULL,
  linked_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  PRIMARY KEY (upstream, subject_hash)
);
INSERT INTO identity_links_new (upstream, subject_hash, account_id, level, method, linked_at,
                                last_used_at)
  SELECT upstream, subject_hash, account_id, level, method, linked_at, last_used_at
    FROM identity_links;
DROP TABLE identity_links;
ALTER TABLE identity_links_new RENAME TO identity_links;
CREATE UNIQUE INDEX identity_links_account ON identity_links (account_id, upstream);

DELETE FROM organisation_members
 WHERE account_id NOT IN (SELECT id FROM accounts)
    OR organisation_id NOT IN (SELECT id FROM organisations);
CREATE TABLE organisation_members_new (
  organisation_id TEXT NOT NULL REFERENCES organisations (id),
  account_id TEXT NOT NULL REFERENCES accounts (id),
  role TEXT NOT NULL,
  PRIMARY KEY (organisation_id, account_id)
);
INSERT INTO organisation_members_new (organisation_id, account_id, role)
  SELECT organisation_id, account_id, role FROM organisation_members;
DROP TABLE organisation_members;
ALTER TABLE organisation_members_new RENAME TO organisation_members;
CREATE INDEX organisation_members_account ON organisation_members (account_id);

-- An organisation whose members were all deleted before this version has no one left to
-- act for it.
DELETE FROM organisation_invitations
 WHERE organisation_id NOT IN (SELECT organisation_id FROM organisation_members);
DELETE FROM organisations WHERE id NOT IN (SELECT organisation_id FROM organisation_members);

DELETE FROM organisation_invitations WHERE organisation_id NOT IN (SELECT id FROM organisations);
CREATE TABLE organisation_invitations_new (
  token_hash TEXT PRIMARY KEY,
  organisation_id TEXT NOT NULL REFERENCES organisations (id),
  email TEXT NOT NULL,
  role TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
INSERT INTO organisation_invitations_new (token_hash, organisation_id, email, role, expires_at,
                                          used_at)
  SELECT token_hash, organisation_id, email, role, expires_at, used_at
    FROM organisation_invitations;
DROP TABLE organisation_invitations;
ALTER TABLE organisation_invitations_new RENAME TO organisation_invitations;

DELETE FROM staff_invitations WHERE tenant_id NOT IN (SELECT id FROM tenants);
CREATE TABLE staff_invitations_new (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  email TEXT NOT NULL,
  given_name TEXT NOT NULL,
  family_name TEXT NOT NULL,
  role TEXT NOT NULL,
  locale TEXT NOT NULL,
  invited_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
INSERT INTO staff_invitations_new (id, token_hash, tenant_id, email, given_name, family_name, role,
                                   locale, invited_by, created_at, expires_at)
  SELECT id, token_hash, tenant_id, email, given_name, family_name, role, locale, invited_by,
         created_at, expires_at
    FROM staff_invitations;
DROP TABLE staff_invitations;
ALTER TABLE staff_invitations_new RENAME TO staff_invitations;
CREATE INDEX staff_invitations_tenant ON staff_invitations (tenant_id, email);
