//! What an operator watches: `/metrics` (Prometheus text), `/api/v1/ready` (the database
//! answers) beside `/api/v1/health` (the process answers).
//!
//! Labels are route *templates* (`/api/v1/projects/{project}/…`), methods and statuses,
//! never a request's own path: a project or environment name, a token id or a fingerprint
//! never becomes a label, so nothing here names what a client stores or how it signs in.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use envsync_api::Health;
use envsync_api::paths::route;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::{ApiError, AppState};

/// The label of a request no route matched (the 404 fallback), whatever its path.
const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type Latencies = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Every metric the server keeps, registered once; cloned handles share the values.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Latencies,
    pushes: Counter,
    event_streams: Gauge,
    failed_sign_ins: Counter,
    pool: Family<PoolLabels, Gauge>,
    record_cache: Family<PoolLabels, Gauge>,
    record_cache_resets: Gauge,
}

/// 1 ms to about 16 s, doubling: a push is milliseconds, the 30 s time limit is the tail.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("envsync");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Latencies = Family::new_with_constructor(latency_histogram);
        let pushes = Counter::default();
        let event_streams = Gauge::default();
        let failed_sign_ins = Counter::default();
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route template and method",
            latency.clone(),
        );
        registry.register("pushes", "Versions stored", pushes.clone());
        registry.register(
            "event_streams_active",
            "WebSocket event streams open now",
            event_streams.clone(),
        );
        registry.register(
            "failed_sign_ins",
            "Requests refused for a bad token, invite or setup code",
            failed_sign_ins.clone(),
        );
        registry.register(
            "db_connections",
            "Database pool connections: in_use, idle, and max (the most it opens)",
            pool.clone(),
        );
        let record_cache = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "record_cache_bytes",
            "Cache of version records and ciphertexts: used, and budget (--record-cache-mib)",
            record_cache.clone(),
        );
        let record_cache_resets = Gauge::default();
        registry.register(
            "record_cache_resets",
            "Times the record cache has been full and started over since the server started",
            record_cache_resets.clone(),
        );
        Arc::new(Self {
            registry,
            record_cache,
            record_cache_resets,
            requests,
            latency,
            pushes,
            event_streams,
            failed_sign_ins,
            pool,
        })
    }

    pub fn push_stored(&self) {
        self.pushes.inc();
    }

    pub fn sign_in_failed(&self) {
        self.failed_sign_ins.inc();
    }

    /// Counts an event stream open until the returned guard is dropped.
    pub fn event_stream_opened(self: &Arc<Self>) -> StreamGuard {
        self.event_streams.inc();
        StreamGuard(Arc::clone(self))
    }

    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let (route, method) = (route.to_owned(), method.to_owned());
        self.requests
            .get_or_create(&RequestLabels {
                route: route.clone(),
                method: method.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route, method })
            .observe(seconds);
    }
}

/// Decrements the open-streams gauge when its stream ends, however it ends.
pub struct StreamGuard(Arc<Metrics>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.event_streams.dec();
    }
}

/// Middleware: counts and times every request by its route template.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    tracing::debug!(route = %route, method = %method, status, milliseconds = seconds * 1e3, "request");
    state.metrics().observe(&route, &method, status, seconds);
    response
}

#[utoipa::path(get, path = route::METRICS,
    responses((status = 200, description = "Prometheus (OpenMetrics) text: requests by \
        route template and status, latencies, pushes, open event streams, database pool use, \
        failed sign-ins, the record cache's use. No label names a project, value or token.",
        content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let metrics = state.metrics();
    let pool = state.store().pool_use();
    let set = |state: &'static str, value: u32| {
        metrics
            .pool
            .get_or_create(&PoolLabels { state })
            .set(i64::from(value));
    };
    set("in_use", pool.open.saturating_sub(pool.idle));
    set("idle", pool.idle);
    set("max", pool.max);
    let cache = state.store().record_cache_use();
    let bytes = |value: usize| i64::try_from(value).unwrap_or(i64::MAX);
    let cache_gauge = |state| metrics.record_cache.get_or_create(&PoolLabels { state });
    cache_gauge("used").set(bytes(cache.bytes));
    cache_gauge("budget").set(bytes(cache.budget));
    metrics
        .record_cache_resets
        .set(i64::try_from(cache.resets).unwrap_or(i64::MAX));
    let mut text = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &metrics.registry) {
        tracing::error!("encoding metrics: {error}");
    }
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

#[utoipa::path(get, path = route::READY,
    responses((status = 200, description = "the database answers", body = Health),
        (status = 503, description = "the database does not answer", body = envsync_api::ErrorBody)))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state.store().ping().await?;
    Ok(Json(Health {
        status: "ready".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}
