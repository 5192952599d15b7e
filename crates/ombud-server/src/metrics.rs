//! Prometheus metrics of one server process, served at `GET /metrics` in the
//! Prometheus text format 0.0.4.
//!
//! Every label value comes from a bounded set, so a caller cannot grow the
//! number of time series. Routes are the router's path templates, never the
//! raw path or query string. Methods are the standard ones, and GraphQL
//! operation names are capped at [`MAX_OPERATION_NAMES`] distinct values.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ombud_store::Store;
use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;
use crate::error::ServerError;

/// Maximum number of distinct GraphQL operation names kept as label values.
/// Later names are counted as `other`.
pub const MAX_OPERATION_NAMES: usize = 200;

/// Maximum length of a GraphQL operation name kept as a label value, in bytes.
const MAX_OPERATION_NAME_LENGTH: usize = 64;

/// Upper bounds of the request duration buckets, in seconds. These are the
/// default buckets of the official Prometheus client libraries.
const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpRequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpRouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GraphqlOperationLabels {
    operation: String,
    r#type: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: String,
    result: String,
}

/// The GraphQL operation type a request selected, or `Unknown` when the
/// document does not parse or names no matching operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OperationType {
    Query,
    Mutation,
    Subscription,
    Unknown,
}

impl OperationType {
    fn as_str(self) -> &'static str {
        match self {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
            OperationType::Unknown => "unknown",
        }
    }
}

/// Whether a GraphQL response carried any error, partial results included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Error,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
        }
    }
}

/// A source of connection pool figures, read at each scrape.
pub trait PoolStatsSource {
    /// Returns `(pool name, open connections, idle connections)` for each pool.
    fn pool_stats(&self) -> Vec<(&'static str, u32, usize)>;
}

impl PoolStatsSource for Store {
    fn pool_stats(&self) -> Vec<(&'static str, u32, usize)> {
        Store::pool_stats(self)
            .into_iter()
            .map(|stats| (stats.pool, stats.size, stats.idle))
            .collect()
    }
}

/// The metric registry of one server, kept in [`AppState`] and shared by every request.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpRequestLabels, Counter>,
    http_request_duration: Family<HttpRouteLabels, Histogram, fn() -> Histogram>,
    graphql_operations: Family<GraphqlOperationLabels, Counter>,
    db_pool_connections: Family<PoolLabels, Gauge>,
    background_jobs: Family<JobLabels, Counter>,
    /// Operation names already used as label values, at most [`MAX_OPERATION_NAMES`].
    operation_names: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Creates a registry with every ombud metric registered and no samples yet.
    pub fn new() -> Metrics {
        let http_requests = Family::<HttpRequestLabels, Counter>::default();
        let http_request_duration =
            Family::<HttpRouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        let graphql_operations = Family::<GraphqlOperationLabels, Counter>::default();
        let db_pool_connections = Family::<PoolLabels, Gauge>::default();
        let background_jobs = Family::<JobLabels, Counter>::default();

        // The encoder appends `_total` to counter names and a full stop to
        // each help text.
        let mut registry = Registry::default();
        registry.register(
            "ombud_http_requests",
            "HTTP requests by method, route template and response status",
            http_requests.clone(),
        );
        registry.register(
            "ombud_http_request_duration_seconds",
            "Time from receiving an HTTP request to sending the response headers, in seconds",
            http_request_duration.clone(),
        );
        registry.register(
            "ombud_graphql_operations",
            "GraphQL operations run with a session, by operation name, type and outcome",
            graphql_operations.clone(),
        );
        registry.register(
            "ombud_db_pool_connections",
            "Open database connections by pool and state, sampled at scrape time",
            db_pool_connections.clone(),
        );
        registry.register(
            "ombud_background_jobs",
            "Finished background job runs by job and result",
            background_jobs.clone(),
        );

        Metrics {
            registry,
            http_requests,
            http_request_duration,
            graphql_operations,
            db_pool_connections,
            background_jobs,
            operation_names: Mutex::new(HashSet::new()),
        }
    }

    /// Counts one finished run of a background job. Callers pass fixed
    /// strings (such as `"deadline_reminders"` and `"ok"`), because each
    /// distinct pair becomes a time series.
    pub fn record_job(&self, job: &str, result: &str) {
        let labels = JobLabels {
            job: job.to_owned(),
            result: result.to_owned(),
        };
        self.background_jobs.get_or_create(&labels).inc();
    }

    /// Counts one HTTP request and observes its duration in seconds.
    fn record_http_request(&self, method: &'static str, route: String, status: u16, seconds: f64) {
        let labels = HttpRequestLabels {
            method,
            route,
            status,
        };
        self.http_requests.get_or_create(&labels).inc();

        let labels = HttpRouteLabels {
            method,
            route: labels.route,
        };
        self.http_request_duration
            .get_or_create(&labels)
            .observe(seconds);
    }

    /// Counts one GraphQL operation. `name` is the operation name the request
    /// selected, if any.
    pub(crate) fn record_graphql_operation(
        &self,
        name: Option<&str>,
        operation_type: OperationType,
        outcome: Outcome,
    ) {
        let labels = GraphqlOperationLabels {
            operation: self.operation_label(name),
            r#type: operation_type.as_str(),
            outcome: outcome.as_str(),
        };
        self.graphql_operations.get_or_create(&labels).inc();
    }

    /// Returns the label value for an operation name: the name itself while
    /// fewer than [`MAX_OPERATION_NAMES`] distinct names have been seen,
    /// `other` after that, and `anonymous` for a missing or invalid name.
    /// An operation that is itself named `anonymous` or `other` shares that
    /// series.
    fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|name| is_graphql_name(name)) else {
            return "anonymous".to_owned();
        };

        let mut seen = self
            .operation_names
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if seen.contains(name) {
            return name.to_owned();
        }
        if seen.len() < MAX_OPERATION_NAMES {
            seen.insert(name.to_owned());
            return name.to_owned();
        }
        "other".to_owned()
    }

    /// Samples the connection pools and encodes every metric in the
    /// Prometheus text format 0.0.4.
    pub fn encode(&self, pools: &dyn PoolStatsSource) -> Result<String, std::fmt::Error> {
        for (pool, size, idle) in pools.pool_stats() {
            // `size` and `idle` are read one after the other, so a connection
            // returned in between can make `idle` exceed `size` for a moment.
            let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
            let in_use = size - idle;
            self.db_pool_connections
                .get_or_create(&PoolLabels {
                    pool,
                    state: "idle",
                })
                .set(i64::from(idle));
            self.db_pool_connections
                .get_or_create(&PoolLabels {
                    pool,
                    state: "in_use",
                })
                .set(i64::from(in_use));
        }

        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// Returns whether `name` is a GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`) of at
/// most [`MAX_OPERATION_NAME_LENGTH`] bytes.
fn is_graphql_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    name.len() <= MAX_OPERATION_NAME_LENGTH
        && (first == b'_' || first.is_ascii_alphabetic())
        && bytes.all(|byte| byte == b'_' || byte.is_ascii_alphanumeric())
}

/// Returns the label value of an HTTP method: the method for the nine
/// methods of RFC 9110, `other` for extension methods, whose names a client
/// can choose freely.
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "CONNECT" => "CONNECT",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "PATCH" => "PATCH",
        _ => "other",
    }
}

/// Middleware that counts every request and times it until the response
/// headers are ready. Streaming a body afterwards is not included.
pub(crate) async fn track_http_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let started = Instant::now();

    let response = next.run(request).await;

    let seconds = started.elapsed().as_secs_f64();
    metrics.record_http_request(method, route, response.status().as_u16(), seconds);
    response
}

/// `GET /metrics`: every metric of this process in the Prometheus text format.
pub(crate) async fn serve_metrics(State(state): State<AppState>) -> Response {
    match state.metrics.encode(&state.store) {
        Ok(text) => (
            [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(error) => {
            ServerError::Internal(format!("cannot encode the metrics: {error}")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    struct FixedPools(Vec<(&'static str, u32, usize)>);

    impl PoolStatsSource for FixedPools {
        fn pool_stats(&self) -> Vec<(&'static str, u32, usize)> {
            self.0.clone()
        }
    }

    fn encode(metrics: &Metrics) -> String {
        metrics.encode(&FixedPools(Vec::new())).unwrap()
    }

    #[test]
    fn http_request_counted_with_route_template() {
        let metrics = Metrics::new();
        metrics.record_http_request("GET", "/healthz".to_owned(), 200, 0.002);
        metrics.record_http_request("GET", "/healthz".to_owned(), 200, 0.004);

        let text = encode(&metrics);

        assert!(
            text.contains("# TYPE ombud_http_requests_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "ombud_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("# TYPE ombud_http_request_duration_seconds histogram\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "ombud_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.005\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "ombud_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 2\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn pool_gauges_split_idle_and_in_use() {
        let metrics = Metrics::new();

        let text = metrics
            .encode(&FixedPools(vec![("reader", 4, 3), ("writer", 1, 5)]))
            .unwrap();

        assert!(
            text.contains("ombud_db_pool_connections{pool=\"reader\",state=\"idle\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("ombud_db_pool_connections{pool=\"reader\",state=\"in_use\"} 1\n"),
            "{text}"
        );
        // More idle than open connections is a race between two reads and is clamped.
        assert!(
            text.contains("ombud_db_pool_connections{pool=\"writer\",state=\"idle\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("ombud_db_pool_connections{pool=\"writer\",state=\"in_use\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn background_job_counted_by_job_and_result() {
        let metrics = Metrics::new();
        metrics.record_job("deadline_reminders", "ok");
        metrics.record_job("deadline_reminders", "ok");
        metrics.record_job("deadline_reminders", "error");

        let text = encode(&metrics);

        assert!(
            text.contains(
                "ombud_background_jobs_total{job=\"deadline_reminders\",result=\"ok\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "ombud_background_jobs_total{job=\"deadline_reminders\",result=\"error\"} 1\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn operation_label_rejects_invalid_names() {
        let metrics = Metrics::new();
        let too_long = "a".repeat(MAX_OPERATION_NAME_LENGTH + 1);
        let longest = "a".repeat(MAX_OPERATION_NAME_LENGTH);
        let cases = [
            (None, "anonymous"),
            (Some(""), "anonymous"),
            (Some("1stQuery"), "anonymous"),
            (Some("get users"), "anonymous"),
            (Some("Query\"}"), "anonymous"),
            (Some("Grüße"), "anonymous"),
            (Some(too_long.as_str()), "anonymous"),
            (Some(longest.as_str()), longest.as_str()),
            (Some("_private2"), "_private2"),
            (Some("GetUsers"), "GetUsers"),
        ];

        for (name, expected) in cases {
            assert_eq!(metrics.operation_label(name), expected, "name {name:?}");
        }
    }

    #[test]
    fn operation_names_capped_then_other() {
        let metrics = Metrics::new();
        for index in 0..MAX_OPERATION_NAMES {
            let name = format!("Operation{index}");
            assert_eq!(metrics.operation_label(Some(&name)), name);
        }

        assert_eq!(metrics.operation_label(Some("OneTooMany")), "other");
        assert_eq!(metrics.operation_label(Some("Operation0")), "Operation0");
        assert_eq!(metrics.operation_label(None), "anonymous");
    }

    #[test]
    fn graphql_operation_counted_with_labels() {
        let metrics = Metrics::new();
        metrics.record_graphql_operation(Some("ListUsers"), OperationType::Query, Outcome::Ok);
        metrics.record_graphql_operation(None, OperationType::Unknown, Outcome::Error);

        let text = encode(&metrics);

        assert!(
            text.contains(
                "ombud_graphql_operations_total{operation=\"ListUsers\",type=\"query\",outcome=\"ok\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "ombud_graphql_operations_total{operation=\"anonymous\",type=\"unknown\",outcome=\"error\"} 1\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn method_label_maps_extension_methods_to_other() {
        let custom = axum::http::Method::from_bytes(b"PURGE").unwrap();

        assert_eq!(method_label(&axum::http::Method::POST), "POST");
        assert_eq!(method_label(&custom), "other");
    }
}
