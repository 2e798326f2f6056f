-- The tenant that asked for a statement: its party reads the request only while the
-- Vorgang is still that tenant's (not after it was forwarded) and in a check.
ALTER TABLE case_statements ADD COLUMN asking_tenant_id TEXT NOT NULL DEFAULT '';
