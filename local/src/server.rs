//! The one HTTP server: `/favicon.ico`, demo pages and the simulated WeChat (demo mode
//! only), and the gateway for every other path.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use http::{HeaderMap, Method, Uri, header};
use wechat_simulator::WeChatSimulator;
use wxauth_core::{BaseUrl, Gateway, GatewayRequest, Route};

use crate::demo::SIMULATOR_PREFIX;
use crate::host::host;
use crate::pages::{self, DemoSite};

pub(crate) fn router(
    gateway: Arc<Gateway>,
    site: Option<Arc<DemoSite>>,
    simulator: Option<WeChatSimulator>,
) -> Router {
    let mut app = Router::new()
        .route("/favicon.ico", get(crate::favicon::favicon))
        .fallback(forward)
        .with_state(gateway);
    if let Some(site) = site {
        app = app.merge(pages::router(site));
    }
    if let Some(simulator) = simulator {
        app = app.nest(SIMULATOR_PREFIX, simulator.router());
    }
    app
}

/// Hands the request to the core and sends its answer back unchanged.
async fn forward(
    State(gateway): State<Arc<Gateway>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // The token endpoint's form is small; anything larger is cut off and refused there.
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes.to_vec(),
        Err(_) => {
            // The headers every gateway answer carries (wxauth_core::response), and a type.
            return Response::builder()
                .status(http::StatusCode::PAYLOAD_TOO_LARGE)
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .header(header::CACHE_CONTROL, "no-store")
                .header(header::REFERRER_POLICY, "no-referrer")
                .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .body(Body::from("request body too large"))
                .expect("a static response");
        }
    };
    let header = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let request = GatewayRequest {
        method,
        route: Route::from_path(uri.path()),
        raw_query: uri.query().map(str::to_owned),
        accept: headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        cookie_header: cookie_header(&headers),
        derived_base_url: host(&headers)
            .and_then(|host| BaseUrl::from_host_header("http", host).ok()),
        request_id: Some(next_request_id()),
        accept_language: header(header::ACCEPT_LANGUAGE),
        user_agent: header(header::USER_AGENT),
        authorization: header(header::AUTHORIZATION),
        content_type: header(header::CONTENT_TYPE),
        body,
    };
    gateway.handle(request).await.map(Body::from)
}

/// Bodies beyond this are refused before the gateway sees them (API Gateway's own limit
/// is 10 MB; the gateway's largest form is a token request of a few hundred bytes).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The request's id in the logs, where API Gateway's is on Lambda: the lines of concurrent
/// requests interleave, and each carries its request's span.
fn next_request_id() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(1);
    format!("local-{}", COUNT.fetch_add(1, Ordering::Relaxed))
}

/// Every `Cookie` header, joined as one (HTTP/2 clients may split them).
fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let parts: Vec<&str> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}
