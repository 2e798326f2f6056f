-- Messages between the clerk and the applicant of a Vorgang, with their attachments (kept
-- encrypted in the component's blob store like the documents).
CREATE TABLE case_messages (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases (id),
  -- the order of the Vorgang's messages, 1, 2, … (its row is locked while one is added)
  seq INTEGER NOT NULL,
  -- to_applicant or from_applicant
  direction TEXT NOT NULL,
  author_id TEXT NOT NULL,
  author_name TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  -- the trust level needed to read a message to the applicant: low, substantial, high
  required_level TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX case_messages_case ON case_messages (case_id, seq);

CREATE TABLE case_message_files (
  message_id TEXT NOT NULL REFERENCES case_messages (id),
  position INTEGER NOT NULL,
  filename TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  blob_id TEXT NOT NULL,
  PRIMARY KEY (message_id, position)
);
CREATE INDEX case_message_files_blob ON case_message_files (blob_id);
