-- The citizen's applications (Vorhaben): the online service as it was at the start, the
-- answers, the documents, the payment, the submission's outputs and the status history.
CREATE TABLE applications (
  id TEXT PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  authority_id TEXT NOT NULL,
  authority_name TEXT NOT NULL,
  place TEXT NOT NULL,
  online_service_id TEXT NOT NULL,
  online_service_version INTEGER NOT NULL,
  title TEXT NOT NULL,
  config TEXT NOT NULL,
  owner_kind TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  guest_email TEXT NOT NULL,
  guest_token_hash TEXT NOT NULL,
  guest_salt TEXT NOT NULL,
  guest_confirmed INTEGER NOT NULL,
  status TEXT NOT NULL,
  answers TEXT NOT NULL,
  payment_order_id TEXT NOT NULL,
  pdf_blob TEXT NOT NULL,
  xml_blob TEXT NOT NULL,
  json_blob TEXT NOT NULL,
  case_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  client_key TEXT,
  external_url TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_from TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  draft_expires_at BIGINT,
  remind_at BIGINT,
  reminded_at BIGINT,
  reminders_off INTEGER NOT NULL,
  submitted_at BIGINT,
  received_at BIGINT,
  retention_until BIGINT
);
CREATE INDEX applications_owner ON applications (owner_id, updated_at);
CREATE INDEX applications_drafts ON applications (status, draft_expires_at);
CREATE INDEX applications_reminders ON applications (status, remind_at);
CREATE INDEX applications_retention ON applications (retention_until);
CREATE INDEX applications_guest ON applications (guest_token_hash);
CREATE INDEX applications_guest_email ON applications (guest_email, created_at);
CREATE UNIQUE INDEX applications_client_key ON applications (client_id, client_key);

CREATE TABLE application_documents (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL,
  requirement INTEGER NOT NULL,
  filename TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  blob_id TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX application_documents_of ON application_documents (application_id, requirement);
CREATE INDEX application_documents_blob ON application_documents (blob_id);

-- What happened to an application as its owner reads it: each status it reached and what
-- an external online service or the authority said.
CREATE TABLE application_events (
  id TEXT PRIMARY KEY,
  application_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  status TEXT NOT NULL,
  text TEXT NOT NULL,
  actor TEXT NOT NULL,
  idempotency_key TEXT
);
CREATE INDEX application_events_of ON application_events (application_id, at);
CREATE UNIQUE INDEX application_events_key ON application_events (application_id, idempotency_key);
