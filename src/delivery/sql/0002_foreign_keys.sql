-- Documents and proof records belong to their notice (SQLite enforces keys: PRAGMA
-- foreign_keys=ON). The tables are made anew with the key; rows of missing notices go.
DELETE FROM delivery_documents WHERE notice_id NOT IN (SELECT id FROM delivery_notices);
CREATE TABLE delivery_documents_new (
  notice_id TEXT NOT NULL REFERENCES delivery_notices (id),
  position INTEGER NOT NULL,
  filename TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  sha512 TEXT NOT NULL,
  blob_id TEXT NOT NULL,
  PRIMARY KEY (notice_id, position)
);
INSERT INTO delivery_documents_new (notice_id, position, filename, media_type, size, sha256,
                                    sha512, blob_id)
  SELECT notice_id, position, filename, media_type, size, sha256, sha512, blob_id
    FROM delivery_documents;
DROP TABLE delivery_documents;
ALTER TABLE delivery_documents_new RENAME TO delivery_documents;
CREATE INDEX delivery_documents_blob ON delivery_documents (blob_id);

DELETE FROM delivery_proof WHERE notice_id NOT IN (SELECT id FROM delivery_notices);
CREATE TABLE delivery_proof_new (
  notice_id TEXT NOT NULL REFERENCES delivery_notices (id),
  seq INTEGER NOT NULL,
  at BIGINT NOT NULL,
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (notice_id, seq)
);
INSERT INTO delivery_proof_new (notice_id, seq, at, step, status, detail, prev_hash, hash)
  SELECT notice_id, seq, at, step, status, detail, prev_hash, hash FROM delivery_proof;
DROP TABLE delivery_proof;
ALTER TABLE delivery_proof_new RENAME TO delivery_proof;
