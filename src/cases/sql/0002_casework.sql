-- The clerk's work on a Vorgang: groups of clerks and the online services they handle,
-- assignment, the standard process's state, the processing deadline on the business
-- calendar, document requests, decision notices, the authority's own settings, and the
-- record of every read.
ALTER TABLE cases ADD COLUMN aktenzeichen TEXT NOT NULL DEFAULT '';
-- online (a submission) or paper (entered by staff)
ALTER TABLE cases ADD COLUMN source TEXT NOT NULL DEFAULT 'online';
-- the group that handles the online service ('' for none: every clerk of the tenant)
ALTER TABLE cases ADD COLUMN group_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN assignee_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN assignee_name TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
-- the processing deadline: its rule ("3M", core::Duration), the day it runs from, the
-- extensions granted ("3M,1M") and its current end (YYYY-MM-DD; 9999-12-31 for none, so
-- that "deadline first" lists those last)
ALTER TABLE cases ADD COLUMN deadline_rule TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN deadline_from TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN deadline_extensions TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN deadline_on TEXT NOT NULL DEFAULT '9999-12-31';
-- the state the Vorgang was in before a document request, to go back to
ALTER TABLE cases ADD COLUMN resume_state TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_inbox ON cases (tenant_id, group_id, state, received_at, id);
CREATE INDEX cases_state ON cases (tenant_id, state, received_at, id);
CREATE INDEX cases_deadline ON cases (tenant_id, deadline_on);
CREATE INDEX cases_assignee ON cases (assignee_id, received_at);

-- Words of the reference number, Aktenzeichen, applicant and answers (core::fold_case),
-- one row each, searched by prefix with a range on the index.
CREATE TABLE case_terms (
  term TEXT NOT NULL,
  case_id TEXT NOT NULL REFERENCES cases (id),
  PRIMARY KEY (term, case_id)
);
CREATE INDEX case_terms_case ON case_terms (case_id);

-- Days the processing deadline does not run (documents requested): [from_day, to_day).
CREATE TABLE case_suspensions (
  case_id TEXT NOT NULL REFERENCES cases (id),
  seq INTEGER NOT NULL,
  from_day TEXT NOT NULL,
  to_day TEXT NOT NULL,  -- '' while it lasts
  PRIMARY KEY (case_id, seq)
);

CREATE TABLE case_groups (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE TABLE case_group_members (
  group_id TEXT NOT NULL REFERENCES case_groups (id),
  account_id TEXT NOT NULL,
  PRIMARY KEY (group_id, account_id)
);
CREATE INDEX case_group_members_account ON case_group_members (account_id);
-- One group handles an online service within a tenant.
CREATE TABLE case_group_services (
  tenant_id TEXT NOT NULL,
  online_service_id TEXT NOT NULL,
  group_id TEXT NOT NULL REFERENCES case_groups (id),
  PRIMARY KEY (tenant_id, online_service_id)
);

-- What an authority sets per online service: the processing deadline, where a Vorgang
-- goes when a document request's deadline passes, and whether the notice
-- is made and announced without a clerk (from the template named).
CREATE TABLE case_service_settings (
  tenant_id TEXT NOT NULL,
  online_service_id TEXT NOT NULL,
  deadline_rule TEXT NOT NULL,
  on_request_expiry TEXT NOT NULL,
  auto_decide_template_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, online_service_id)
);

CREATE TABLE case_closing_days (
  tenant_id TEXT NOT NULL,
  day TEXT NOT NULL,
  label TEXT NOT NULL,
  PRIMARY KEY (tenant_id, day)
);

CREATE TABLE case_templates (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (tenant_id, name)
);

-- The authority's seal: the private key sealed with a key derived from the master key.
CREATE TABLE case_seals (
  tenant_id TEXT PRIMARY KEY,
  key_sealed TEXT NOT NULL,
  certificate_pem TEXT NOT NULL,
  chain_pem TEXT NOT NULL,
  subject TEXT NOT NULL,
  not_after BIGINT NOT NULL,
  origin TEXT NOT NULL,  -- generated (on first use), uploaded
  updated_at BIGINT NOT NULL
);

CREATE TABLE case_requests (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases (id),
  items TEXT NOT NULL,  -- JSON array of the documents asked for
  note TEXT NOT NULL,
  deadline_on TEXT NOT NULL,
  status TEXT NOT NULL,  -- open, fulfilled, expired, cancelled
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  reminded_at BIGINT,
  closed_at BIGINT
);
CREATE INDEX case_requests_case ON case_requests (case_id, created_at);
CREATE INDEX case_requests_open ON case_requests (status, deadline_on);

CREATE TABLE case_notices (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases (id),
  title TEXT NOT NULL,
  origin TEXT NOT NULL,  -- template, upload, automatic
  blob_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  recipient TEXT NOT NULL,          -- mailbox id, '' when only the post reaches the applicant
  delivery_notice_id TEXT NOT NULL,
  status TEXT NOT NULL,             -- sealed, delivering, stored, retrieved, postal
  stored_at BIGINT,
  deemed_announced_on TEXT NOT NULL,
  receipt_message_id TEXT NOT NULL
);
CREATE INDEX case_notices_case ON case_notices (case_id, created_at);
CREATE INDEX case_notices_blob ON case_notices (blob_id);

-- Every read of a Vorgang by a person (the changes are in the audit log).
CREATE TABLE case_reads (
  case_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  what TEXT NOT NULL
);
CREATE INDEX case_reads_case ON case_reads (case_id, at);
