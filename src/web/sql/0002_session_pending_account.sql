-- The account a session is signing in as, between the password and the second factor: a
-- password reset or a change of the second factor ends such half-finished logins too.
ALTER TABLE sessions ADD COLUMN pending_account_id TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_pending_account ON sessions (pending_account_id);
