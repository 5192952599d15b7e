-- PostgreSQL dialect of migrations/sqlite/0002_shared_state.sql.
-- Periodic maintenance that must run once per due time however many ombud
-- instances share the database. Each instance polls `scheduled_jobs`; the one
-- that claims a due row runs the job and moves `next_run_at` on.

CREATE TABLE scheduled_jobs (
    name TEXT PRIMARY KEY NOT NULL,
    interval_seconds INTEGER NOT NULL CHECK (interval_seconds > 0),
    next_run_at TIMESTAMPTZ NOT NULL,
    last_run_at TIMESTAMPTZ,
    last_run_by TEXT,
    last_result TEXT CHECK (last_result IN ('ok', 'failed'))
);

-- One row per run. The unique key makes a second run of the same due time
-- impossible even if claiming were wrong.
CREATE TABLE job_runs (
    id UUID PRIMARY KEY NOT NULL,
    job_name TEXT NOT NULL REFERENCES scheduled_jobs (name) ON DELETE CASCADE,
    scheduled_for TIMESTAMPTZ NOT NULL,
    instance TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('ok', 'failed')),
    detail TEXT,
    UNIQUE (job_name, scheduled_for)
);
CREATE INDEX job_runs_finished ON job_runs (finished_at);

-- Signing keys shared by every instance on one database. The first instance
-- to start generates each key; the others read it. (SQLite installations
-- keep their keys in the data directory instead.)
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY NOT NULL,
    material TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
