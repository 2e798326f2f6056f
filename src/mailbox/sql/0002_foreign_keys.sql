-- A document belongs to its message (SQLite enforces keys: PRAGMA foreign_keys=ON). The
-- table is made anew with the key, after documents of missing messages are dropped.
DELETE FROM mailbox_attachments WHERE message_id NOT IN (SELECT id FROM mailbox_messages);
CREATE TABLE mailbox_attachments_new (
  message_id TEXT NOT NULL REFERENCES mailbox_messages (id),
  position INTEGER NOT NULL,
  filename TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  blob_id TEXT NOT NULL,
  PRIMARY KEY (message_id, position)
);
INSERT INTO mailbox_attachments_new (message_id, position, filename, media_type, size, sha256,
                                     blob_id)
  SELECT message_id, position, filename, media_type, size, sha256, blob_id
    FROM mailbox_attachments;
DROP TABLE mailbox_attachments;
ALTER TABLE mailbox_attachments_new RENAME TO mailbox_attachments;
CREATE INDEX mailbox_attachments_blob ON mailbox_attachments (blob_id);
