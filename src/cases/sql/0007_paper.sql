-- Paper applications: a clerk enters an application that came by post. Its applicant is
-- reached by post only, at the address entered with it (lines, "\n" between them).
ALTER TABLE cases ADD COLUMN applicant_address TEXT NOT NULL DEFAULT '';
