//! API Gateway HTTP API in front of execution environments: routes, stages, and payload
//! format 2.0 in both directions, as AWS documents them for Lambda proxy integrations.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use tokio::task::JoinHandle;

use crate::runtime_api::{EmulatorError, ExecutionEnvironment, InvocationOutcome};

/// One HTTP API: its public domain name (what `requestContext.domainName` says, e.g.
/// `abc123.execute-api.us-east-1.amazonaws.com` or a custom domain), its stage, and its
/// routes (`"GET /auth"` → the environment that serves it).
#[derive(Clone)]
pub struct HttpApiConfig {
    pub domain_name: String,
    /// `$default` (no path prefix) or a named stage (`/{stage}` prefixes every path).
    pub stage: String,
    pub routes: Vec<(String, Arc<ExecutionEnvironment>)>,
}

/// The API served on a loopback port. The emulator stands where API Gateway's TLS
/// endpoint would: clients talk plain HTTP to [`HttpApi::base_url`], and the functions
/// see the configured domain name and stage.
pub struct HttpApi {
    pub addr: SocketAddr,
    config: Arc<HttpApiConfig>,
    task: JoinHandle<()>,
}

impl HttpApi {
    pub async fn serve(config: HttpApiConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        Self::serve_on(listener, config)
    }

    /// [`Self::serve`] on a listener bound beforehand: its address is known before the
    /// functions start, so they can be told it (`PUBLIC_BASE_URL` on loopback, for a
    /// client that must reach the URLs the functions publish).
    pub fn serve_on(
        listener: tokio::net::TcpListener,
        config: HttpApiConfig,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let config = Arc::new(config);
        let app = Router::new()
            .fallback(front)
            .with_state(Arc::clone(&config))
            .into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, config, task })
    }

    /// `http://127.0.0.1:PORT`, plus `/{stage}` on a named stage.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, stage_prefix(&self.config.stage))
    }

    /// The API's public base URL as a function derives it: `https://{domain}[/{stage}]`.
    pub fn public_base_url(&self) -> String {
        format!(
            "https://{}{}",
            self.config.domain_name,
            stage_prefix(&self.config.stage)
        )
    }

    /// Maps a public URL of this API (`https://{domain}/…`, as found in a redirect) to the
    /// loopback address that serves it; `None` for any other URL.
    pub fn local_url(&self, public_url: &str) -> Option<String> {
        let rest = public_url.strip_prefix(&format!("https://{}", self.config.domain_name))?;
        if !(rest.is_empty() || rest.starts_with(['/', '?', '#'])) {
            return None;
        }
        Some(format!("http://{}{rest}", self.addr))
    }
}

impl Drop for HttpApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn stage_prefix(stage: &str) -> String {
    if stage == "$default" {
        String::new()
    } else {
        format!("/{stage}")
    }
}

async fn front(
    State(config): State<Arc<HttpApiConfig>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let raw_path = parts.uri.path().to_owned();
    let path = match config.stage.as_str() {
        "$default" => Some(raw_path.as_str()),
        stage => raw_path
            .strip_prefix(&format!("/{stage}"))
            .filter(|rest| rest.starts_with('/')),
    };
    let route_key = path.map(|p| format!("{} {p}", parts.method));
    let Some((route_key, environment)) = route_key.and_then(|key| {
        config
            .routes
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(k, e)| (k.clone(), Arc::clone(e)))
    }) else {
        return api_error(StatusCode::NOT_FOUND, "Not Found");
    };
    let Ok(body) = axum::body::to_bytes(body, 10 * 1024 * 1024).await else {
        return api_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let event = payload_v2_event(
        &config.domain_name,
        &config.stage,
        &route_key,
        &parts.method,
        &raw_path,
        parts.uri.query().unwrap_or(""),
        &parts.headers,
        &body,
        peer,
    );
    match environment.invoke(&event).await {
        Ok(invocation) => match invocation.outcome {
            InvocationOutcome::Response(bytes) => payload_v2_response(&bytes),
            InvocationOutcome::Error(_) => {
                api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        },
        Err(EmulatorError::Timeout) => {
            api_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
        }
        Err(_) => api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    }
}

/// API Gateway's own error bodies: `{"message":"Not Found"}`.
fn api_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        serde_json::json!({ "message": message }).to_string(),
    )
        .into_response()
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// The payload format 2.0 event API Gateway sends a Lambda proxy integration for one
/// request. As AWS does: header names lowercased and repeated headers joined with commas;
/// `Cookie` headers moved into `cookies`; the query string passed raw in
/// `rawQueryString` and decoded (repeats joined with commas) in `queryStringParameters`;
/// a binary body base64-encoded.
#[allow(clippy::too_many_arguments)]
pub fn payload_v2_event(
    domain_name: &str,
    stage: &str,
    route_key: &str,
    method: &Method,
    raw_path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    source: SocketAddr,
) -> serde_json::Value {
    let mut joined: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
            continue;
        }
        joined
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    joined.insert("host".into(), domain_name.into());
    joined.insert("x-forwarded-proto".into(), "https".into());
    joined.insert("x-forwarded-port".into(), "443".into());
    joined.insert("x-forwarded-for".into(), source.ip().to_string());
    let user_agent = joined.get("user-agent").cloned().unwrap_or_default();

    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        query
            .entry(k.into_owned())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&v);
            })
            .or_insert_with(|| v.into_owned());
    }

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    let n = REQUESTS.fetch_add(1, Ordering::Relaxed);
    let api_id = domain_name.split('.').next().unwrap_or(domain_name);
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": api_id,
            "domainName": domain_name,
            "domainPrefix": api_id,
            "http": {
                "method": method.as_str(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source.ip().to_string(),
                "userAgent": user_agent,
            },
            "requestId": format!("emu{:013}{n:06}", now.as_millis()),
            "routeKey": route_key,
            "stage": stage,
            "time": clf_time(now.as_secs()),
            "timeEpoch": now.as_millis() as u64,
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = cookies.into();
    }
    if !query.is_empty() {
        event["queryStringParameters"] = serde_json::to_value(query).expect("a map");
    }
    if !body.is_empty() {
        match std::str::from_utf8(body) {
            Ok(text) => event["body"] = text.into(),
            Err(_) => {
                event["body"] = base64::engine::general_purpose::STANDARD
                    .encode(body)
                    .into();
                event["isBase64Encoded"] = true.into();
            }
        }
    }
    event
}

/// What API Gateway makes of a function's answer under payload format 2.0: an object with
/// `statusCode` gives the status, `headers` (one value per name; 2.0 has no
/// `multiValueHeaders`), `cookies` (one `Set-Cookie` each) and `body` (base64-decoded when
/// `isBase64Encoded`). Other valid JSON is a 200 `application/json` body. Anything else
/// is API Gateway's 500.
pub fn payload_v2_response(bytes: &[u8]) -> Response {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let Some(status) = json.get("statusCode") else {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            json.to_string(),
        )
            .into_response();
    };
    let Some(status) = status
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
    else {
        return api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let mut response = Response::builder().status(status);
    if let Some(headers) = json.get("headers").and_then(|h| h.as_object()) {
        for (name, value) in headers {
            let value = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let Ok(value) = HeaderValue::from_str(&value) else {
                return api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
            };
            response = response.header(name.as_str(), value);
        }
    }
    if let Some(cookies) = json.get("cookies").and_then(|c| c.as_array()) {
        for cookie in cookies.iter().filter_map(|c| c.as_str()) {
            response = response.header(http::header::SET_COOKIE, cookie);
        }
    }
    let body = match json.get("body") {
        Some(serde_json::Value::String(text)) if json["isBase64Encoded"] == true => {
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) => Bytes::from(bytes),
                Err(_) => {
                    return api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
                }
            }
        }
        Some(serde_json::Value::String(text)) => Bytes::from(text.clone()),
        _ => Bytes::new(),
    };
    response
        .body(Body::from(body))
        .unwrap_or_else(|_| api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))
}

/// `25/Nov/2026:13:00:00 +0000`, the format of `requestContext.time`.
fn clf_time(epoch_secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = (epoch_secs / 86_400) as i64;
    let secs = epoch_secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_context_time_is_api_gateway_format() {
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf_time(1_795_000_000), "18/Nov/2026:11:06:40 +0000");
        assert_eq!(clf_time(951_782_400), "29/Feb/2000:00:00:00 +0000");
    }

    #[test]
    fn events_follow_payload_format_2() {
        let mut headers = HeaderMap::new();
        headers.append("Accept", "text/html".parse().unwrap());
        headers.append("X-Multi", "a".parse().unwrap());
        headers.append("X-Multi", "b".parse().unwrap());
        headers.append("Cookie", "a=1; b=2".parse().unwrap());
        let event = payload_v2_event(
            "abc.execute-api.us-east-1.amazonaws.com",
            "prod",
            "GET /auth",
            &Method::GET,
            "/prod/auth",
            "x=1&x=2&y=%22",
            &headers,
            b"",
            "127.0.0.1:5000".parse().unwrap(),
        );
        assert_eq!(event["rawPath"], "/prod/auth");
        assert_eq!(event["rawQueryString"], "x=1&x=2&y=%22");
        assert_eq!(event["queryStringParameters"]["x"], "1,2");
        assert_eq!(event["queryStringParameters"]["y"], "\"");
        assert_eq!(event["headers"]["accept"], "text/html");
        assert_eq!(event["headers"]["x-multi"], "a,b");
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["cookies"], serde_json::json!(["a=1", "b=2"]));
        assert_eq!(event["requestContext"]["stage"], "prod");
        assert_eq!(event["requestContext"]["apiId"], "abc");
        assert_eq!(event["requestContext"]["http"]["method"], "GET");
        assert!(event.get("body").is_none());
    }

    #[tokio::test]
    async fn responses_follow_payload_format_2() {
        let r = payload_v2_response(
            br#"{"statusCode":302,"headers":{"location":"https://x/"},
                 "multiValueHeaders":{"x-ignored":["1"]},
                 "cookies":["a=1; Secure","b=2"],"body":"aGk=","isBase64Encoded":true}"#,
        );
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "https://x/");
        assert!(r.headers().get("x-ignored").is_none());
        let cookies: Vec<_> = r.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1; Secure", "b=2"]);
        let body = axum::body::to_bytes(r.into_body(), 100).await.unwrap();
        assert_eq!(&body[..], b"hi");

        let r = payload_v2_response(br#"{"hello":"world"}"#);
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");

        assert_eq!(payload_v2_response(b"not json").status(), 500);
        assert_eq!(payload_v2_response(br#"{"statusCode":"x"}"#).status(), 500);
    }
}
