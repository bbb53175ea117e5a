//! The Lambda side of wxauth: API Gateway HTTP API (payload format 2.0) events in, payload
//! 2.0 responses out. Each function binary names its entry of the [`functions`] table and
//! calls [`run`].
//!
//! The event is read directly rather than through `lambda_http`'s `http::Request`
//! conversion: that conversion panics when the raw query string holds bytes `http::Uri`
//! refuses (`"`, `<`, `{`, raw UTF-8 …), which API Gateway passes through from any client.
//! A panic would cost the execution environment; here such bytes simply reach the core's
//! strict parser and earn a 400.

pub mod functions;
pub mod secret_refs;

use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use lambda_runtime::{LambdaEvent, service_fn};
use wxauth_core::logging::{self, LogFilter};
use wxauth_core::metrics::MetricsSink;
use wxauth_core::warm_up::{WARM_UP_BUDGET, warm_up};
use wxauth_core::{BaseUrl, Config, Gateway, GatewayRequest};

use functions::Function;

/// A function's `main`: configuration and clients once per execution environment, then
/// the runtime loop. The function's `serves` says which secrets it reads: the auth
/// function none (`Serves::StartOnly`), the callbacks the AppSecrets and
/// TOKEN_SIGNING_KEY (`Serves::Callbacks`), the OpenID Provider's functions what their
/// endpoint uses.
///
/// The functions run it on a single-threaded Tokio runtime: an execution environment
/// handles one invocation at a time, so worker threads would only cost start-up time and
/// memory, and they made the WeChat client race its own connection pool (on a worker the
/// code exchange's connection sometimes came back after the profile call had opened a
/// second one; docs/performance.md counts the connections).
pub async fn run(function: &'static Function) -> Result<(), lambda_runtime::Error> {
    let serves = function.serves;
    init_logging();
    // The `_REF` variables and the apps' `app_secret_ref`s: read from SSM or Secrets Manager
    // first (secret_refs), only those this function uses.
    let started = Instant::now();
    let secrets = secret_refs::resolve_env(serves)
        .await
        .inspect_err(|e| tracing::error!("{e}"))?;
    if !secrets.is_empty() {
        tracing::info!(
            secrets = secrets.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "secret references resolved"
        );
    }
    let config = Config::for_routes(serves, secrets.overlay(|name| std::env::var(name).ok()))
        .inspect_err(|e| tracing::error!("{e}"))?;
    // The environment's own values only: what a `_REF` resolved is not in it.
    for warning in wxauth_core::config::exposed_secret_warnings(|name| {
        serves
            .reads(name)
            .then(|| std::env::var(name).ok())
            .flatten()
    }) {
        tracing::warn!("{warning}");
    }
    let gateway = Arc::new(
        Gateway::with_dynamodb(config)
            .await
            .inspect_err(|e| tracing::error!("{e}"))?
            .with_metrics(MetricsSink::Stdout),
    );
    if gateway.config().init_warm_up {
        let warmed = warm_up(&gateway, WARM_UP_BUDGET).await;
        let wechat = warmed.wechat.as_ref().map(ToString::to_string);
        let elapsed_ms = warmed.elapsed.as_millis() as u64;
        if warmed.all_ready() {
            tracing::info!(elapsed_ms, store = %warmed.store, wechat, "connections warmed up");
        } else {
            // The first request opens what could not be opened now.
            tracing::warn!(elapsed_ms, store = %warmed.store, wechat, "warm-up incomplete");
        }
    }
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
            let gateway = Arc::clone(&gateway);
            async move {
                Ok::<_, std::convert::Infallible>(handle(&gateway, function, event.payload).await)
            }
        },
    ))
    .await
}

/// One invocation: the event as a core request, the core's answer as a payload 2.0
/// response.
pub async fn handle(
    gateway: &Gateway,
    function: &Function,
    event: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let request = GatewayRequest {
        method: event.request_context.http.method.clone(),
        route: function.route(&event),
        raw_query: event.raw_query_string.clone().filter(|q| !q.is_empty()),
        accept: event
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        // Payload 2.0 moves the Cookie header into `cookies`.
        cookie_header: event
            .cookies
            .as_ref()
            .filter(|c| !c.is_empty())
            .map(|c| c.join("; ")),
        derived_base_url: derived_base_url(&event),
        request_id: event.request_context.request_id.clone(),
        accept_language: header(&event, http::header::ACCEPT_LANGUAGE),
        user_agent: header(&event, http::header::USER_AGENT),
        authorization: header(&event, http::header::AUTHORIZATION),
        content_type: header(&event, http::header::CONTENT_TYPE),
        body: body_bytes(&event),
    };
    let (mut parts, body) = gateway.handle(request).await.into_parts();
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(parts.status.as_u16());
    // Payload 2.0 wants Set-Cookie values in `cookies`, one per entry.
    response.cookies = parts
        .headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    parts.headers.remove(http::header::SET_COOKIE);
    response.headers = parts.headers;
    response.body = (!body.is_empty()).then_some(Body::Text(body));
    response
}

fn header(event: &ApiGatewayV2httpRequest, name: http::header::HeaderName) -> Option<String> {
    event
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The body as sent: API Gateway base64-encodes bodies it does not take for text. One
/// that does not decode is passed on empty, and the endpoint refuses it as incomplete.
fn body_bytes(event: &ApiGatewayV2httpRequest) -> Vec<u8> {
    use base64::Engine;
    match &event.body {
        None => Vec::new(),
        Some(body) if event.is_base64_encoded => base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap_or_default(),
        Some(body) => body.clone().into_bytes(),
    }
}

/// `https://{domainName}[/{stage}]` from the request context API Gateway fills in (the
/// Host header is the client's to set, the context is not).
pub fn derived_base_url(event: &ApiGatewayV2httpRequest) -> Option<BaseUrl> {
    let context = &event.request_context;
    BaseUrl::from_api_gateway(context.domain_name.as_deref()?, context.stage.as_deref()).ok()
}

/// The path as API Gateway received it (with the stage prefix on a named stage).
pub fn raw_path(event: &ApiGatewayV2httpRequest) -> &str {
    event.raw_path.as_deref().unwrap_or("")
}

/// JSON lines on stdout, which Lambda sends to CloudWatch. The level: RUST_LOG, else the
/// function's log level (`AWS_LAMBDA_LOG_LEVEL`, Lambda's advanced logging controls), else
/// `info`; other crates never below `info` (`wxauth_core::logging`).
fn init_logging() {
    let filter = LogFilter::from_env("info");
    if tracing::subscriber::set_global_default(logging::json_logs(std::io::stdout, &filter)).is_ok()
        && let Some(ignored) = &filter.ignored
    {
        tracing::warn!(filter = filter.directives(), "{ignored}");
    }
}

/// The functions' log format (`wxauth_core::logging::json_logs`) with the filter from the
/// environment, `default_filter` when it asks for nothing.
pub fn json_logs<W>(
    writer: W,
    default_filter: &str,
) -> impl tracing::Subscriber + Send + Sync + use<W>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    logging::json_logs(writer, &LogFilter::from_env(default_filter))
}
