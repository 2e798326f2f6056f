-- Periodic work (sweeps, retention, reminders) as jobs: one row per scheduled kind holds the
-- last time slot queued and that slot's job, so that across instances each slot is queued
-- once and a slot is skipped while the previous one still runs.
CREATE TABLE job_schedules (
  kind TEXT PRIMARY KEY,
  period_ms BIGINT NOT NULL,
  last_slot BIGINT NOT NULL,
  job_id TEXT,
  updated_at BIGINT NOT NULL
);
