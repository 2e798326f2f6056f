-- Each index of the jobs table holds only the jobs of the state it serves: the claim's due
-- jobs, the running jobs' leases, the ended jobs for the purge and the operators' list. A
-- job's change of state then writes three index entries instead of five, and what the claim
-- walks stays as small as the queue however many jobs have ended.
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
DROP INDEX jobs_leases;
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'running';
DROP INDEX jobs_ended;
CREATE INDEX jobs_done ON jobs (updated_at) WHERE state = 'done';
CREATE INDEX jobs_dead ON jobs (updated_at) WHERE state = 'dead';
