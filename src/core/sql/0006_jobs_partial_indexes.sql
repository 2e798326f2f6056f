-- Each index of the jobs table holds only the jobs of the state it serves: the claim's due
-- jobs, the running jobs' leases, the ended jobs for the purge and the operators' list. A
-- job's change of state then writes three index entries instead of five, and what the claim
-- walks stays as small as the queue however many jobs have ended. The new indexes are built
-- before the old ones go, so that the table is held exclusively only for the drops (while
-- they are built, jobs are read but not written).
CREATE INDEX jobs_queued_due ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_running_lease ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_done ON jobs (updated_at) WHERE state = 'done';
CREATE INDEX jobs_dead ON jobs (updated_at) WHERE state = 'dead';
DROP INDEX jobs_due;
DROP INDEX jobs_leases;
DROP INDEX jobs_ended;
