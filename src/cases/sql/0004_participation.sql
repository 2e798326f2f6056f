-- Participation (Beteiligung): the clerk asks another authority on the platform (which
-- answers in its own case management) or an outside body such as a school or an expert
-- (which answers through a mailed link) for a statement by a day. Forwarding a Vorgang to
-- another authority changes the Vorgang itself and is in its timeline.
CREATE TABLE case_statements (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases (id),
  -- authority or outside
  party_kind TEXT NOT NULL,
  -- the authority asked and its tenant ('' for an outside body)
  party_authority_id TEXT NOT NULL,
  party_tenant_id TEXT NOT NULL,
  party_name TEXT NOT NULL,
  -- an outside body: where the link was mailed, and the SHA-256 of the link's secret
  -- ('' for an authority)
  party_email TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  question TEXT NOT NULL,
  -- 1: the party may read the application (PDF) and its documents
  share_documents INTEGER NOT NULL,
  deadline_on TEXT NOT NULL,
  -- open, answered, cancelled
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  created_by_name TEXT NOT NULL,
  answer TEXT NOT NULL,
  answered_at BIGINT,
  answered_by TEXT NOT NULL,
  -- when the clerks were told that the day passed without an answer
  overdue_told_at BIGINT
);
CREATE INDEX case_statements_case ON case_statements (case_id, created_at);
CREATE INDEX case_statements_party ON case_statements (party_tenant_id, status, deadline_on);
CREATE INDEX case_statements_open ON case_statements (status, deadline_on);
CREATE INDEX case_statements_token ON case_statements (token_hash);

CREATE TABLE case_statement_files (
  statement_id TEXT NOT NULL REFERENCES case_statements (id),
  position INTEGER NOT NULL,
  filename TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  blob_id TEXT NOT NULL,
  PRIMARY KEY (statement_id, position)
);
CREATE INDEX case_statement_files_blob ON case_statement_files (blob_id);
