-- The search words by Vorgang and word: a search by several words lists the Vorgänge of the
-- rarest and probes each row it reads for the others on this index alone (docs/cases.md,
-- "The inbox"). It takes the place of the index on case_id, its first column.
CREATE INDEX case_terms_probe ON case_terms (case_id, term);
DROP INDEX case_terms_case;
