-- The citizen mailbox (Postfach): messages and notices per account or organisation.
CREATE TABLE mailbox_messages (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,          -- account or organisation
  source_ref TEXT NOT NULL,        -- who put it here, unique: "delivery:<notice id>"
  kind TEXT NOT NULL,              -- notice | message
  sender TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  reference TEXT NOT NULL,
  required_level TEXT NOT NULL,
  provided_at BIGINT NOT NULL,
  notified_at BIGINT,
  retrieved_at BIGINT,
  deemed_announced_on TEXT,        -- notices: the day of the announcement fiction
  retrieval_due_at BIGINT,         -- notices: not retrieved by then -> postal fallback
  fallback_reported_at BIGINT,
  event_job_kind TEXT NOT NULL     -- job told of retrieval and of the missed period
);
CREATE UNIQUE INDEX mailbox_messages_source ON mailbox_messages (source_ref);
CREATE INDEX mailbox_messages_owner ON mailbox_messages (owner_id, provided_at);
CREATE INDEX mailbox_messages_due ON mailbox_messages (retrieval_due_at);

CREATE TABLE mailbox_attachments (
  message_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  filename TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  blob_id TEXT NOT NULL,
  PRIMARY KEY (message_id, position)
);
