-- The Vorgang's arrival beside each of its search words: a search by words sorts their
-- Vorgänge by arrival on the index alone and reads only the rows of the page it shows
-- (docs/cases.md, "The inbox").
ALTER TABLE case_terms ADD COLUMN received_at BIGINT NOT NULL DEFAULT 0;
UPDATE case_terms SET received_at = (SELECT c.received_at FROM cases c WHERE c.id = case_terms.case_id);
CREATE INDEX case_terms_order ON case_terms (term, received_at, case_id);
