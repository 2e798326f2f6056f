-- The tenant that asked for a statement: its party reads the request only while the
-- Vorgang is still that tenant's (not after it was forwarded) and in a check.
ALTER TABLE case_statements ADD COLUMN asking_tenant_id TEXT NOT NULL DEFAULT '';
-- requests made before: asked by the tenant that has the Vorgang (a forwarding cancels
-- the open ones)
UPDATE case_statements SET asking_tenant_id = (SELECT c.tenant_id FROM cases c WHERE c.id = case_statements.case_id);
