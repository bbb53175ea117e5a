//! Driving the function binaries under the runtime emulator, shared by `coldstart` and
//! `coldlogin`: the API Gateway events they get, an environment waited through its init,
//! and the Node.js baseline's interpreter.

use std::time::Duration;

use http::{HeaderMap, Method};
use lambda_runtime_emulator::{ExecutionEnvironment, FunctionSpec, InitOutcome, payload_v2_event};

/// The API's domain in the events (the gateway derives its base URL from it).
pub const DOMAIN: &str = "bench.execute-api.us-east-1.amazonaws.com";

/// A payload 2.0 `GET {path}?{query}` event on the `$default` stage, with the browser's
/// cookie when given.
pub fn event(path: &str, query: &str, cookie: Option<&str>) -> serde_json::Value {
    let mut headers = HeaderMap::new();
    headers.insert("host", DOMAIN.parse().unwrap());
    if let Some(cookie) = cookie {
        headers.insert("cookie", cookie.parse().unwrap());
    }
    payload_v2_event(
        DOMAIN,
        "$default",
        &format!("GET {path}"),
        &Method::GET,
        path,
        query,
        &headers,
        b"",
        "203.0.113.9:50000".parse().unwrap(),
    )
}

/// `GET /auth` for `return_url` and `scope`.
pub fn auth_event(return_url: &str, scope: &str) -> serde_json::Value {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("url", return_url)
        .append_pair("scope", scope)
        .finish();
    event("/auth", &query, None)
}

/// A started environment, past its init (or a panic with its logs).
pub async fn ready(spec: FunctionSpec) -> ExecutionEnvironment {
    let name = spec.binary.display().to_string();
    let environment = ExecutionEnvironment::spawn(spec).await.expect("spawn");
    match environment.wait_for_init(Duration::from_secs(30)).await {
        InitOutcome::Ready { .. } => environment,
        other => panic!(
            "{name}: init failed: {other:?}\n{}",
            environment.logs().join("\n")
        ),
    }
}

/// The `node` on the PATH, which the Node.js baseline runs on.
pub fn which_node() -> String {
    let out = std::process::Command::new("sh")
        .args(["-c", "command -v node"])
        .output()
        .expect("sh");
    let path = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(
        !path.is_empty(),
        "node is not installed: the baseline needs it"
    );
    path
}

pub fn node_version(node: &str) -> String {
    let out = std::process::Command::new(node)
        .arg("--version")
        .output()
        .expect("node --version");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
