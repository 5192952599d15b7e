//! Background jobs that run once per due time, however many instances share
//! the database. Each instance polls `scheduled_jobs`. The instance whose
//! transaction claims a due row (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
//! write lock on SQLite) runs the job in that transaction, records the run and
//! moves the row on.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ombud_store::{SqlValue, Store, StoreError, WriteTx};
use uuid::Uuid;

use crate::error::ServerError;
use crate::metrics::Metrics;

/// The jobs this build can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Deletes refresh tokens a day after they expired or were revoked,
    /// personal access tokens after thirty days, and old run records.
    PurgeExpiredCredentials,
}

impl JobKind {
    pub const ALL: [JobKind; 1] = [JobKind::PurgeExpiredCredentials];

    pub fn name(self) -> &'static str {
        match self {
            JobKind::PurgeExpiredCredentials => "purge_expired_credentials",
        }
    }

    fn from_name(name: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Time between two runs.
    pub fn interval(self) -> chrono::Duration {
        match self {
            JobKind::PurgeExpiredCredentials => chrono::Duration::hours(1),
        }
    }

    /// Does the job's work inside the claiming transaction; returns a summary
    /// for `job_runs.detail`, which contains counts only, never personal data.
    async fn run(self, tx: &mut WriteTx, now: DateTime<Utc>) -> Result<String, StoreError> {
        match self {
            JobKind::PurgeExpiredCredentials => {
                let refresh_cutoff = now - chrono::Duration::days(1);
                let long_cutoff = now - chrono::Duration::days(30);
                let refresh = tx
                    .execute(
                        "DELETE FROM refresh_tokens WHERE expires_at < $1 OR revoked_at < $1",
                        &[refresh_cutoff.into()],
                    )
                    .await?;
                let personal = tx
                    .execute(
                        "DELETE FROM personal_access_tokens WHERE expires_at < $1 OR revoked_at < $1",
                        &[long_cutoff.into()],
                    )
                    .await?;
                let runs = tx
                    .execute(
                        "DELETE FROM job_runs WHERE finished_at < $1",
                        &[long_cutoff.into()],
                    )
                    .await?;
                Ok(format!(
                    "removed {refresh} refresh token(s), {personal} personal access token(s), {runs} job run record(s)"
                ))
            }
        }
    }
}

/// The result of one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// No job was due, or every due job was claimed by another instance.
    NothingDue,
    Ran {
        job: &'static str,
        scheduled_for: DateTime<Utc>,
    },
    Failed {
        job: &'static str,
        scheduled_for: DateTime<Utc>,
    },
}

/// Polls for due jobs on behalf of one ombud instance.
#[derive(Clone)]
pub struct JobRunner {
    store: Store,
    metrics: Arc<Metrics>,
    instance: String,
}

impl JobRunner {
    pub fn new(store: Store, metrics: Arc<Metrics>, instance: String) -> JobRunner {
        JobRunner {
            store,
            metrics,
            instance,
        }
    }

    /// Returns a name for this process in `job_runs.instance`: host, process id and a
    /// random suffix, since containers often share process ids.
    pub fn default_instance_name() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .ok()
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "ombud".to_owned());
        let suffix = Uuid::new_v4().simple().to_string();
        format!("{host}-{}-{}", std::process::id(), &suffix[..6])
    }

    /// Adds a schedule row for every job this build can run; existing rows stay as they are.
    pub async fn register(&self) -> Result<(), StoreError> {
        for kind in JobKind::ALL {
            let interval = kind.interval().num_seconds();
            self.store
                .execute(
                    "INSERT INTO scheduled_jobs (name, interval_seconds, next_run_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO NOTHING",
                    &[kind.name().into(), SqlValue::Int(interval), SqlValue::now()],
                )
                .await?;
        }
        Ok(())
    }

    /// Claims and runs at most one due job.
    pub async fn run_due(&self) -> Result<RunOutcome, ServerError> {
        let now = Utc::now();
        let mut tx = self.store.begin_write().await?;

        // Only jobs this build can run: a newer instance may have registered more.
        let mut params = vec![SqlValue::Timestamp(now)];
        let mut names = Vec::new();
        for kind in JobKind::ALL {
            params.push(kind.name().into());
            names.push(format!("${}", params.len()));
        }
        let sql = format!(
            "SELECT name, next_run_at FROM scheduled_jobs WHERE next_run_at <= $1 AND name IN ({}) \
             ORDER BY next_run_at, name LIMIT 1{}",
            names.join(", "),
            tx.dialect().for_update_skip_locked()
        );
        let Some(row) = tx.fetch_optional(&sql, &params).await? else {
            tx.commit().await?;
            return Ok(RunOutcome::NothingDue);
        };
        let name = row.required_text(0)?;
        let kind = JobKind::from_name(name)
            .ok_or_else(|| ServerError::Internal(format!("claimed an unknown job {name}")))?;
        let scheduled_for = ombud_store::parse_timestamp(row.required_text(1)?)
            .ok_or_else(|| ServerError::Internal("a job's next_run_at is not a time".to_owned()))?;
        let next = next_run(scheduled_for, kind.interval(), now);

        let job = kind.name();
        match kind.run(&mut tx, now).await {
            Ok(detail) => {
                self.record(&mut tx, kind, scheduled_for, next, now, "ok", &detail)
                    .await?;
                tx.commit().await?;
                tracing::info!(job, instance = %self.instance, %detail, "job finished");
                self.metrics.record_job(kind.name(), "ok");
                Ok(RunOutcome::Ran {
                    job: kind.name(),
                    scheduled_for,
                })
            }
            Err(error) => {
                // The job's own changes roll back with its transaction. The
                // failure is recorded in a new one, guarded by the slot so that
                // only one instance records it.
                drop(tx);
                tracing::error!(job, instance = %self.instance, %error, "job failed");
                self.metrics.record_job(kind.name(), "failed");
                let mut tx = self.store.begin_write().await?;
                let moved = tx
                    .execute(
                        "UPDATE scheduled_jobs SET next_run_at = $1 WHERE name = $2 AND next_run_at = $3",
                        &[next.into(), kind.name().into(), scheduled_for.into()],
                    )
                    .await?;
                if moved == 1 {
                    let detail = format!("failed: {}", error_kind(&error));
                    self.record(&mut tx, kind, scheduled_for, next, now, "failed", &detail)
                        .await?;
                }
                tx.commit().await?;
                Ok(RunOutcome::Failed {
                    job: kind.name(),
                    scheduled_for,
                })
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        tx: &mut WriteTx,
        kind: JobKind,
        scheduled_for: DateTime<Utc>,
        next: DateTime<Utc>,
        started: DateTime<Utc>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let finished = Utc::now();
        tx.execute(
            "UPDATE scheduled_jobs SET next_run_at = $1, last_run_at = $2, last_run_by = $3, last_result = $4 \
             WHERE name = $5",
            &[
                next.into(),
                finished.into(),
                self.instance.as_str().into(),
                result.into(),
                kind.name().into(),
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO job_runs (id, job_name, scheduled_for, instance, started_at, finished_at, result, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                Uuid::new_v4().into(),
                kind.name().into(),
                scheduled_for.into(),
                self.instance.as_str().into(),
                started.into(),
                finished.into(),
                result.into(),
                detail.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Polls every `every` until `stop` turns true, running each due job in turn.
    pub async fn run_until(self, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        if let Err(error) = self.register().await {
            tracing::error!(%error, "cannot register background jobs; they will not run on this instance");
            return;
        }
        loop {
            // Drain every due job before sleeping again.
            loop {
                match self.run_due().await {
                    Ok(RunOutcome::Ran { .. } | RunOutcome::Failed { .. }) => {}
                    Ok(RunOutcome::NothingDue) => break,
                    Err(error) => {
                        tracing::warn!(%error, "cannot poll for background jobs");
                        break;
                    }
                }
                if *stop.borrow() {
                    return;
                }
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }
}

/// Returns the next due time after a run of the slot `scheduled_for`. After downtime
/// the missed slots are not run one after another: the next is one interval from now.
fn next_run(
    scheduled_for: DateTime<Utc>,
    interval: chrono::Duration,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let next = scheduled_for + interval;
    if next <= now { now + interval } else { next }
}

/// Returns a failure's category for the run record, because database messages can quote values.
fn error_kind(error: &StoreError) -> &'static str {
    match error {
        StoreError::Unavailable(_) => "database unavailable",
        StoreError::StatementTimeout => "statement timeout",
        StoreError::Constraint { .. } => "constraint violation",
        _ => "database error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_run_after_downtime() {
        let hour = chrono::Duration::hours(1);
        let slot = ombud_store::parse_timestamp("2026-12-04T10:00:00Z").unwrap();
        let soon = ombud_store::parse_timestamp("2026-12-04T10:00:05Z").unwrap();
        assert_eq!(next_run(slot, hour, soon), slot + hour);
        let days_later = ombud_store::parse_timestamp("2026-12-06T08:30:00Z").unwrap();
        assert_eq!(next_run(slot, hour, days_later), days_later + hour);
    }
}
