//! The Lambda side of wxauth: API Gateway HTTP API (payload 2.0) events in, `lambda_http`
//! responses out. Each function binary picks its route and calls [`run`].

use std::sync::Arc;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response, service_fn};
use wxauth_core::{BaseUrl, Config, Gateway, GatewayRequest, Route};

/// Which route a function serves, given the event (the auth function also answers the
/// MP_verify file).
pub type RouteFor = fn(&Request) -> Route;

/// A function's `main`: configuration and clients once per execution environment, then
/// the runtime loop.
pub async fn run(route_for: RouteFor) -> Result<(), lambda_http::Error> {
    init_logging();
    let config = Config::from_env().inspect_err(|e| tracing::error!("{e}"))?;
    let gateway = Arc::new(
        Gateway::with_dynamodb(config)
            .await
            .inspect_err(|e| tracing::error!("{e}"))?,
    );
    lambda_http::run(service_fn(move |event: Request| {
        let gateway = Arc::clone(&gateway);
        async move { Ok::<_, std::convert::Infallible>(handle(&gateway, route_for, event).await) }
    }))
    .await
}

/// One invocation: the event as a core request, the core's answer as a Lambda response.
pub async fn handle(gateway: &Gateway, route_for: RouteFor, event: Request) -> Response<Body> {
    let request = GatewayRequest {
        method: event.method().clone(),
        route: route_for(&event),
        raw_query: event.uri().query().map(str::to_owned),
        accept: event
            .headers()
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        derived_base_url: derived_base_url(&event),
    };
    let (parts, body) = gateway.handle(request).await.into_parts();
    Response::from_parts(parts, Body::Text(body))
}

/// `https://{domainName}[/{stage}]` from the request context API Gateway fills in (the
/// Host header is the client's to set, the context is not).
pub fn derived_base_url(event: &Request) -> Option<BaseUrl> {
    match event.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => {
            BaseUrl::from_api_gateway(ctx.domain_name.as_deref()?, ctx.stage.as_deref()).ok()
        }
        // Only HTTP API events are enabled; anything else has no trustworthy domain.
        _ => None,
    }
}

/// The path as API Gateway received it, without the stage prefix lambda_http may add.
pub fn raw_path(event: &Request) -> &str {
    event.raw_http_path()
}

fn init_logging() {
    // JSON lines for CloudWatch; Lambda adds its own timestamps.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .without_time()
        .with_ansi(false)
        .try_init();
}
