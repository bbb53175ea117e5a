//! DynamoDB misbehaving: stopped mid-run, or throttling. The gateway answers 503 with a
//! clear error and a Retry-After, never panics, and works again as soon as the store does.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wxauth_core::store::DynamoStateStore;
use wxauth_core::{Config, Gateway, WeChatClient};
use wxauth_tests::*;

/// A DynamoDB Local of this test's own, started and stopped through the project's script.
struct OwnDynamoDb {
    dir: PathBuf,
    port: u16,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/dynamodb-local.sh")
}

fn run_script(args: &[&str]) {
    let status = Command::new(script()).args(args).status().unwrap();
    assert!(status.success(), "scripts/dynamodb-local.sh {args:?}");
}

impl OwnDynamoDb {
    fn start() -> Self {
        // Unique per start: every test of the suite shares this process.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("wxauth-ddb-{}-{n}", std::process::id()));
        run_script(&["start", dir.to_str().unwrap()]);
        let port = std::fs::read_to_string(dir.join("port"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        Self { dir, port }
    }

    fn stop(&self) {
        run_script(&["stop", self.dir.to_str().unwrap()]);
    }

    /// On the same port, as after an outage (in memory, so empty).
    fn restart(&self) {
        run_script(&["start", self.dir.to_str().unwrap(), &self.port.to_string()]);
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnDynamoDb {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn gateway_on(env: &TestEnv, client: aws_sdk_dynamodb::Client, table: &str) -> Gateway {
    let vars = env.vars().clone();
    let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let store = DynamoStateStore::new(client, table);
    Gateway::new(config, Arc::new(store), WeChatClient::http_client())
}

fn auth_query() -> String {
    encode(&[
        ("url", "https://app.example.com/"),
        ("scope", "snsapi_base"),
    ])
}

#[tokio::test]
async fn a_stopped_store_is_a_503_and_a_restarted_one_works_again() {
    let _exclusive = exclusive().await;
    let env = TestEnv::start().await;
    let ddb = OwnDynamoDb::start();
    let client = dynamo_client_at(&ddb.endpoint()).await;
    let table = create_state_table(&client).await;
    let gateway = gateway_on(&env, client.clone(), &table).await;
    let ok = env.invoke_on(&gateway, "/auth", &auth_query(), None).await;
    assert_eq!(ok.status(), 302);
    let pending_state = state_of(&location(&ok).unwrap());

    ddb.stop();
    let down = env.invoke_on(&gateway, "/auth", &auth_query(), None).await;
    assert_eq!(down.status(), 503, "{}", body_text(&down));
    assert!(location(&down).is_none());
    assert_eq!(down.headers()["retry-after"], "1");
    let body = json_body(&down);
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        !body["error_description"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1")
    );
    let page = env
        .invoke_on(&gateway, "/auth", &auth_query(), Some("text/html"))
        .await;
    assert_eq!(page.status(), 503);
    assert!(body_text(&page).contains("<h1>"));
    let callback = env
        .invoke_on(
            &gateway,
            "/getOpenId",
            &encode(&[("code", "x"), ("state", &pending_state)]),
            None,
        )
        .await;
    assert_eq!(callback.status(), 503);

    // Back up (in memory, so empty): the very next request works.
    ddb.restart();
    create_state_table_named(&client, &table).await;
    let again = env.invoke_on(&gateway, "/auth", &auth_query(), None).await;
    assert_eq!(again.status(), 302, "{}", body_text(&again));
}

/// A DynamoDB endpoint that throttles every request, as DynamoDB answers them.
async fn throttling_endpoint() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    refusing_endpoint(
        "ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    )
    .await
}

/// A DynamoDB endpoint that answers every request with one error, as DynamoDB sends it
/// (HTTP 400, `__type` and `message`).
async fn refusing_endpoint(
    error_type: &'static str,
    message: &'static str,
) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                if read_http_message(&mut socket).await.is_none() {
                    return;
                }
                let body = serde_json::json!({
                    "__type": format!("com.amazonaws.dynamodb.v20120810#{error_type}"),
                    "message": message,
                })
                .to_string();
                let answer = format!(
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, hits)
}

#[tokio::test]
async fn throttling_is_retried_then_answered_as_retryable() {
    let env = TestEnv::start().await;
    let (endpoint, hits) = throttling_endpoint().await;
    let gateway = gateway_on(&env, dynamo_client_at(&endpoint).await, "wxauth-states").await;
    let started = std::time::Instant::now();
    let response = env.invoke_on(&gateway, "/auth", &auth_query(), None).await;
    assert_eq!(response.status(), 503, "{}", body_text(&response));
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(json_body(&response)["error"], "temporarily_unavailable");
    assert!(
        hits.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the SDK retries throttling"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// A refusal that retrying cannot fix is our deployment's fault: 500 `server_error`, no
/// Retry-After (clients must not hammer a broken stack), an error line naming the cause
/// and the `server_error` metric, so an alarm fires.
async fn assert_misconfigured(
    env: &TestEnv,
    gateway: &Gateway,
    cause: &str,
    lines: &Arc<std::sync::Mutex<Vec<String>>>,
) {
    let (logs, guard) = CapturedLogs::start("info");
    let response = env.invoke_on(gateway, "/auth", &auth_query(), None).await;
    drop(guard);
    assert_eq!(response.status(), 500, "{cause}: {}", body_text(&response));
    assert!(response.headers().get("retry-after").is_none(), "{cause}");
    let body = json_body(&response);
    assert_eq!(body["error"], "server_error", "{cause}");
    assert!(
        !body["error_description"].as_str().unwrap().contains(cause),
        "the cause is for the operator, not the client: {body}"
    );
    let error_line = logs
        .lines()
        .into_iter()
        .find(|l| l["level"] == "ERROR" && l["fields"]["message"] == "request failed")
        .unwrap_or_else(|| panic!("{cause}: no error line in {}", logs.text()));
    assert!(
        error_line["fields"]["error"]
            .as_str()
            .unwrap()
            .contains(cause),
        "{error_line}"
    );
    let handled = logs
        .lines()
        .into_iter()
        .find(|l| l["fields"]["message"] == "handled")
        .unwrap();
    assert_eq!(handled["fields"]["outcome"], "server_error", "{handled}");
    let metric = lines.lock().unwrap().pop().expect("a metric line");
    let metric: serde_json::Value = serde_json::from_str(&metric).unwrap();
    assert_eq!(metric["Outcome"], "server_error", "{metric}");
}

#[tokio::test]
async fn permanent_store_errors_are_server_errors_not_retryable() {
    use wxauth_core::metrics::MetricsSink;
    let env = TestEnv::start().await;
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = || MetricsSink::Memory(Arc::clone(&lines));

    // Real DynamoDB (Local): a table that does not exist, and one whose key is not ours.
    let missing = gateway_on(&env, dynamo_client().await, "wxauth-no-such-table")
        .await
        .with_metrics(sink());
    assert_misconfigured(&env, &missing, "ResourceNotFoundException", &lines).await;
    let client = dynamo_client().await;
    let wrong_key = format!("{}-wrong-key", env.table);
    {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        client
            .create_table()
            .table_name(&wrong_key)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    let invalid = gateway_on(&env, client, &wrong_key)
        .await
        .with_metrics(sink());
    assert_misconfigured(&env, &invalid, "ValidationException", &lines).await;

    // IAM, which DynamoDB Local does not enforce: as DynamoDB answers a missing grant.
    let (endpoint, hits) = refusing_endpoint(
        "AccessDeniedException",
        "User: arn:aws:sts::123456789012:assumed-role/wxauth-auth/fn is not authorized to perform: dynamodb:PutItem",
    )
    .await;
    let denied = gateway_on(&env, dynamo_client_at(&endpoint).await, "wxauth-states")
        .await
        .with_metrics(sink());
    assert_misconfigured(&env, &denied, "AccessDeniedException", &lines).await;
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "a permanent error is not retried"
    );
}

/// A TCP proxy in front of DynamoDB Local that holds each answer back by `delay` (a slow
/// store, or a cold function's first TLS handshake on a 128 MB share of a CPU).
async fn slow_dynamodb(delay: Duration) -> String {
    let upstream = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap();
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                return;
            };
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut last = std::time::Instant::now() - Duration::from_secs(1);
                loop {
                    let n = match server_read.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    // A new answer (not the rest of the last one) waits.
                    if last.elapsed() > Duration::from_millis(100) {
                        tokio::time::sleep(delay).await;
                    }
                    if client_write.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                    last = std::time::Instant::now();
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn a_slow_store_and_a_silent_wechat_still_answer_within_ten_seconds() {
    let _exclusive = exclusive().await;
    use wechat_simulator::{Endpoint, Fault};
    let env = TestEnv::start().await;
    // Just under the SDK's 2 s attempt timeout, so every store call succeeds, slowly:
    // consume, WeChat's whole 6.5 s and recording the outcome used to add up to 10.1 s.
    let slow = gateway_on(
        &env,
        dynamo_client_at(&slow_dynamodb(Duration::from_millis(1800)).await).await,
        &env.table,
    )
    .await;
    env.sim.inject(
        Endpoint::AccessToken,
        Fault::Delay(Duration::from_secs(30)),
        2,
    );
    let authorize = env
        .start_login("https://app.example.com/", wxauth_core::Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "vic", true).await;
    let first = async {
        let started = std::time::Instant::now();
        let response = env.follow_callback_on(&slow, &callback).await;
        (response, started.elapsed())
    };
    // WeChat's in-app browser loads the callback again while the first waits on WeChat.
    let repeat = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = std::time::Instant::now();
        let response = env.follow_callback_on(&slow, &callback).await;
        (response, started.elapsed())
    };
    let ((first, first_took), (repeat, repeat_took)) = tokio::join!(first, repeat);
    for (name, response, took) in [
        ("first", &first, first_took),
        ("repeat", &repeat, repeat_took),
    ] {
        assert!(took < Duration::from_secs(10), "{name} took {took:?}");
        assert!(took > Duration::from_secs(5), "{name} took only {took:?}");
        // Both answer: the first with WeChat's timeout, the repeat with that answer or a
        // refusal, never a hang.
        assert!(
            matches!(response.status(), 302 | 400),
            "{name}: {} {}",
            response.status(),
            body_text(response)
        );
    }
    let landing = location(&first).unwrap();
    assert_eq!(
        result_params(&landing, false)["error"],
        "temporarily_unavailable"
    );
}
