//! API Gateway HTTP API (payload 2.0) events as the functions receive them, and what the
//! tests read out of the functions' responses (status, Location, body, result parameters).

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;

use crate::DOMAIN;

static REQUEST_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A real API Gateway HTTP API (payload format 2.0) event for a GET.
pub fn api_gateway_event(
    stage: &str,
    path: &str,
    query: &str,
    accept: Option<&str>,
) -> ApiGatewayV2httpRequest {
    let raw_path = if stage == "$default" {
        path.to_owned()
    } else {
        format!("/{stage}{path}")
    };
    let request_id = format!(
        "req-{}",
        REQUEST_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut headers = serde_json::json!({
        "host": DOMAIN,
        "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.50",
        "x-forwarded-proto": "https",
        "x-forwarded-for": "203.0.113.7",
    });
    if let Some(accept) = accept {
        headers["accept"] = accept.into();
    }
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": format!("GET {path}"),
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": DOMAIN,
            "domainPrefix": "abc123",
            "http": {
                "method": "GET",
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "MicroMessenger"
            },
            "requestId": request_id,
            "routeKey": format!("GET {path}"),
            "stage": stage,
            "time": "25/Nov/2026:13:00:00 +0000",
            "timeEpoch": 1_795_000_000_000u64
        },
        "isBase64Encoded": false
    });
    serde_json::from_value(event).expect("a valid API Gateway event")
}

pub fn location(response: &ApiGatewayV2httpResponse) -> Option<String> {
    response
        .headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
}

pub fn body_text(response: &ApiGatewayV2httpResponse) -> String {
    match &response.body {
        Some(Body::Text(text)) => text.clone(),
        Some(Body::Binary(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    }
}

pub fn json_body(response: &ApiGatewayV2httpResponse) -> serde_json::Value {
    serde_json::from_str(&body_text(response)).expect("a JSON body")
}

/// A refusal as the gateway answers one: 400, no redirect to follow, a JSON body with the
/// OAuth `error` and an `error_description` that says why (and mentions `because`).
pub fn assert_refused(response: &ApiGatewayV2httpResponse, error: &str, because: &str) {
    assert_eq!(response.status(), 400, "{}", body_text(response));
    assert!(location(response).is_none(), "a refusal must not redirect");
    let body = json_body(response);
    assert_eq!(body["error"], error, "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        !description.is_empty() && description.contains(because),
        "{description:?} does not mention {because:?}"
    );
}

/// The result parameters of a final redirect, from its query or (fragment mode) from the
/// fragment's query part.
pub fn result_params(location: &str, fragment: bool) -> HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    let source = if fragment {
        let f = url.fragment().unwrap_or("");
        f.split_once('?').map_or(f, |(_, q)| q).to_owned()
    } else {
        url.query().unwrap_or("").to_owned()
    };
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(source.as_bytes()) {
        assert!(
            out.insert(k.to_string(), v.to_string()).is_none(),
            "parameter {k} appears twice in {location}"
        );
    }
    out
}

/// The state parameter of an authorize URL.
pub fn state_of(authorize_url: &str) -> String {
    let url = url::Url::parse(authorize_url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state")
}

/// `status()` and `headers()` on a payload 2.0 response, as on an `http::Response`.
pub trait ResponseExt {
    fn status(&self) -> u16;
    fn headers(&self) -> &http::HeaderMap;
}

impl ResponseExt for ApiGatewayV2httpResponse {
    fn status(&self) -> u16 {
        u16::try_from(self.status_code).expect("an HTTP status")
    }

    fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }
}
