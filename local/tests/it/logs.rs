//! The program's logs with `LOG_FORMAT=json` and `RUST_LOG=trace`: the functions' JSON
//! lines, and not one secret, however verbose the filter. Everything the process prints
//! is searched, stdout and stderr.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::TcpListener;
use wechat_simulator::{SimulatorConfig, WeChatSimulator, consent_url};

use crate::support::{get, program, query_params, sigterm};

const APP_ID: &str = "wx0123456789abcdef";
const APP_SECRET: &str = "app-secret-never-logged-0001";
const KEY: &str = "signing-key-never-logged-0123456789abcdef";
const AWS_SECRET: &str = "aws-secret-access-key-never-logged";

/// Runs the program (configured mode) with `vars`, lets `visit` use it at its base URL,
/// stops it with SIGTERM and returns what `visit` found and everything the program
/// printed: (found, stdout, stderr).
async fn printed_while<T>(
    vars: &[(&str, String)],
    visit: impl AsyncFnOnce(String) -> T,
) -> (T, String, String) {
    let mut child = program(&[])
        .envs(vars.iter().map(|(name, value)| (name, value)))
        .spawn()
        .unwrap();
    // Drained all along: a chatty log must not block the program on a full pipe.
    let mut stderr = child.stderr.take().unwrap();
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        stderr.read_to_string(&mut text).await.unwrap();
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut banner))
        .await
        .expect("the banner comes promptly")
        .unwrap();
    let base_url = banner
        .split_once("gateway at ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no URL in {banner:?}"))
        .to_owned();

    let found = visit(base_url).await;

    sigterm(&child).await;
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("SIGTERM stops the server")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    (found, banner + &rest, stderr.await.unwrap())
}

/// One app, named (`shop`) through WECHAT_APPS so that the logs must name it.
fn configured(wechat: &str) -> Vec<(&'static str, String)> {
    let apps = serde_json::json!([
        {"name": "shop", "kind": "official_account", "app_id": APP_ID, "app_secret": APP_SECRET}
    ])
    .to_string();
    [
        ("PORT", "0"),
        ("RUST_LOG", "trace"),
        ("LOG_FORMAT", "json"),
        ("WECHAT_APPS", apps.as_str()),
        ("TOKEN_SIGNING_KEY", KEY),
        ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ("WECHAT_OPEN_BASE", wechat),
        ("WECHAT_API_BASE", wechat),
    ]
    .into_iter()
    .map(|(name, value)| (name, value.to_owned()))
    .collect()
}

/// `name=value` → value.
fn cookie_value(binding: &str) -> String {
    binding.split_once('=').unwrap().1.to_owned()
}

/// None of `secrets`, as text nor as the list of bytes `Debug` prints for a byte buffer.
fn assert_holds_none(printed: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(secret.len() >= 8, "{secret:?} is too short to search for");
        let bytes = format!("{:?}", secret.as_bytes());
        let bytes = bytes.trim_start_matches('[').trim_end_matches(']');
        for form in [secret.as_str(), bytes] {
            if let Some(line) = printed.lines().find(|l| l.contains(form)) {
                panic!("a secret value ({secret}) reached the output: {line}");
            }
        }
    }
}

/// Every line of `stderr` as JSON; panics on one that is not.
fn json_lines(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[tokio::test]
async fn a_whole_login_at_trace_level_logs_json_lines_and_no_secret() {
    let sim = WeChatSimulator::new(SimulatorConfig::new(APP_ID, APP_SECRET));
    let wechat = sim.serve_on_loopback().await.unwrap();
    let vars = configured(&wechat.base_url);

    let (mut secrets, stdout, stderr) = printed_while(&vars, async |base| {
        let auth = get(
            &format!("{base}/auth?url=https%3A%2F%2Fapp.example.com%2Fme&scope=snsapi_userinfo"),
            &[],
        )
        .await;
        assert_eq!(auth.status, 302, "{}", auth.body);
        let binding = auth.binding_cookie();
        let consent = get(
            &consent_url(&auth.location(), true),
            &[("x-wechat-sim-user", "erin")],
        )
        .await;
        let callback = consent.location();
        let sent = query_params(&callback);
        let first = get(&callback, &[("cookie", &binding)]).await;
        assert_eq!(first.status, 302, "{}", first.body);
        // WeChat's in-app browser loads the callback twice: the sealed first answer.
        let again = get(&callback, &[("cookie", &binding)]).await;
        assert_eq!(again.location(), first.location());
        let result = query_params(&first.location());
        // And a refusal, which logs its reason.
        let refused = get(&format!("{base}/getWxUserInfo?code=x&state=y"), &[]).await;
        assert_eq!(refused.status, 400);

        vec![
            sent["code"].clone(),
            sent["state"].clone(),
            cookie_value(&binding),
            result["token"].clone(),
            result["openid"].clone(),
        ]
    })
    .await;

    secrets.extend([APP_SECRET.to_owned(), KEY.to_owned()]);
    // The codes and the access tokens WeChat handed out.
    let issued = sim.issued_secrets();
    assert!(issued.len() >= 2, "{issued:?}");
    secrets.extend(issued);
    assert_holds_none(&stdout, &secrets);
    assert_holds_none(&stderr, &secrets);

    let lines = json_lines(&stderr);
    let handled: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "handled")
        .collect();
    let outcomes: Vec<&str> = handled
        .iter()
        .map(|l| l["fields"]["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["login_started", "signed_in", "repeated", "rejected"],
        "{stderr}"
    );
    let mut request_ids = Vec::new();
    for line in handled {
        let span = &line["span"];
        let request_id = span["request_id"].as_str().unwrap();
        assert!(request_id.starts_with("local-"), "{line}");
        request_ids.push(request_id);
        assert!(span["route"].is_string(), "{line}");
        for field in ["status", "latency_ms", "wechat_us", "store_us", "own_us"] {
            assert!(line["fields"][field].is_u64(), "{field}: {line}");
        }
        // Each line of a login names its app; a refusal before any login was found, none.
        let app = if line["fields"]["outcome"] == "rejected" {
            serde_json::Value::Null
        } else {
            "shop".into()
        };
        assert_eq!(line["fields"]["app"], app, "{line}");
    }
    request_ids.dedup();
    assert_eq!(request_ids.len(), 4, "one id per request");
    assert!(
        !stdout.contains('{'),
        "logs go to stderr, stdout is the banner: {stdout}"
    );
}

/// Just enough DynamoDB for `/auth`: every call succeeds with `{}`; bodies are kept.
async fn fake_dynamodb(bodies: Arc<Mutex<Vec<String>>>) -> String {
    let app = axum::Router::new().fallback(async move |body: Bytes| {
        bodies
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(&body).into_owned());
        ([("content-type", "application/x-amz-json-1.0")], "{}")
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn the_aws_sdk_at_trace_level_cannot_print_the_state_it_stores() {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let dynamodb = fake_dynamodb(Arc::clone(&bodies)).await;
    let mut vars = configured("http://127.0.0.1:1");
    vars.extend(
        [
            ("STATE_TABLE", "wxauth-states"),
            ("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDLOCALTESTING"),
            ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
            // The SDK's own switch to print request bodies (at trace): the PutItem body
            // holds the state. Only the cap keeps it out.
            ("LOG_SIGNABLE_BODY", "true"),
        ]
        .map(|(name, value)| (name, value.to_owned())),
    );

    let (mut secrets, stdout, stderr) = printed_while(&vars, async |base| {
        let auth = get(
            &format!("{base}/auth?url=https%3A%2F%2Fapp.example.com%2F&scope=snsapi_base"),
            &[],
        )
        .await;
        assert_eq!(auth.status, 302, "{}", auth.body);
        let state = query_params(&auth.location().replace("#wechat_redirect", ""))["state"].clone();
        vec![state, cookie_value(&auth.binding_cookie())]
    })
    .await;

    let state = &secrets[0];
    assert!(
        bodies
            .lock()
            .unwrap()
            .iter()
            .any(|b| b.contains(state.as_str())),
        "the state went through the SDK"
    );
    secrets.extend([APP_SECRET.to_owned(), KEY.to_owned(), AWS_SECRET.to_owned()]);
    assert_holds_none(&stdout, &secrets);
    assert_holds_none(&stderr, &secrets);
    let lines = json_lines(&stderr);
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "handled"
                && l["fields"]["outcome"] == "login_started"),
        "{stderr}"
    );
}
