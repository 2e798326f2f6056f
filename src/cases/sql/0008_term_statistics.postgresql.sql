-- PostgreSQL only. The planner judges a search word's prefix range (term >= 'zusen' AND
-- term <= 'zusenzzz…') by the column's statistics: with the default target (100) a name of
-- 2414 Vorgänge among 10^6 was taken for 136, and the search probed them one by one where a
-- hash of the other word's entries costs a third. 2000 keeps the words that matter in the
-- statistics and planning cheap; 10000 made planning cost more than it saved
-- (bench/results/2026-12-05-inbox.md).
ALTER TABLE case_terms ALTER COLUMN term SET STATISTICS 2000;
ANALYZE case_terms;
