-- The delivery service (Postfachdienst): notices, their documents, the proof log.
CREATE TABLE delivery_notices (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  recipient TEXT NOT NULL,
  mailbox_type TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  required_level TEXT NOT NULL,
  reference TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  postal_fallback_required INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  accepted_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  next_attempt_at BIGINT,
  stored_at BIGINT,
  retrieved_at BIGINT,
  receipt_message_id TEXT NOT NULL,
  deemed_announced_on TEXT NOT NULL,
  receipt_fetched_at BIGINT,
  documents_deleted_at BIGINT
);
CREATE UNIQUE INDEX delivery_notices_idempotency ON delivery_notices (client_id, idempotency_key);
CREATE INDEX delivery_notices_client_day ON delivery_notices (client_id, accepted_at);
CREATE INDEX delivery_notices_status ON delivery_notices (status);

CREATE TABLE delivery_documents (
  notice_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  filename TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  sha512 TEXT NOT NULL,
  blob_id TEXT NOT NULL,
  PRIMARY KEY (notice_id, position)
);
CREATE INDEX delivery_documents_blob ON delivery_documents (blob_id);

-- Append-only: each record carries the hash of the one before (per notice).
CREATE TABLE delivery_proof (
  notice_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at BIGINT NOT NULL,
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (notice_id, seq)
);

-- One data key per tenant, sealed with a key derived from the master key.
CREATE TABLE delivery_tenant_keys (
  tenant_id TEXT PRIMARY KEY,
  sealed_key TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE delivery_clients (
  client_id TEXT PRIMARY KEY,
  callback_url TEXT NOT NULL,
  callback_secret TEXT NOT NULL,
  rate_per_second DOUBLE PRECISION,
  burst INTEGER,
  daily_quota INTEGER,
  updated_at BIGINT NOT NULL
);
