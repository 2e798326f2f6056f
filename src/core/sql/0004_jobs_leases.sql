-- Jobs whose worker went away are found by their lease, not by scanning every running job.
CREATE INDEX jobs_leases ON jobs (state, lease_until);
