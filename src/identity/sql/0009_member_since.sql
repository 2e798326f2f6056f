-- When each member joined an organisation: when the last admin's account is deleted, the
-- member who joined first becomes admin. Members from before this version count as joined
-- at the start (ties go by account id).
ALTER TABLE organisation_members ADD COLUMN joined_at BIGINT NOT NULL DEFAULT 0;

-- Organisations that earlier deletions left with members but no admin get one now.
UPDATE organisation_members SET role = 'admin'
 WHERE (organisation_id, account_id) IN (
   SELECT organisation_id, MIN(account_id) FROM organisation_members m
    WHERE NOT EXISTS (SELECT 1 FROM organisation_members a
                       WHERE a.organisation_id = m.organisation_id AND a.role = 'admin')
    GROUP BY organisation_id);
