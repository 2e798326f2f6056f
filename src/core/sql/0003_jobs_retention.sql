-- A job whose payload holds a secret (a mail with a link that carries a token) is marked,
-- so that the payload is wiped as soon as the job ends (done or dead).
ALTER TABLE jobs ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_ended ON jobs (state, updated_at);
