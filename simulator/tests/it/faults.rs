use std::time::{Duration, Instant};

use reqwest::StatusCode;
use wechat_simulator::{Endpoint, Fault, Scope, WeChatSimulator};

use crate::support::*;

fn exchange_url(base: &str, code: &str) -> String {
    format!(
        "{base}/sns/oauth2/access_token?{}",
        encode(&[
            ("appid", APP_ID),
            ("secret", SECRET),
            ("code", code),
            ("grant_type", "authorization_code"),
        ])
    )
}

#[tokio::test]
async fn errcode_fault_answers_verbatim_for_the_given_number_of_calls() {
    let (sim, running) = start(config()).await;
    let client = client();
    let code = sim.issue_code("alice", Scope::Base);
    sim.inject(
        Endpoint::AccessToken,
        Fault::Errcode(45011, "api minute-quota reach limit".into()),
        2,
    );
    for _ in 0..2 {
        let (status, content_type, json) = exchange_raw(
            &client,
            &running.base_url,
            &[
                ("appid", APP_ID),
                ("secret", SECRET),
                ("code", &code),
                ("grant_type", "authorization_code"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "text/plain");
        assert_eq!(
            json,
            serde_json::json!({"errcode": 45011, "errmsg": "api minute-quota reach limit"})
        );
    }
    // The faulted calls never reached the code, so it is still good.
    let json = exchange(&client, &running.base_url, &code).await;
    assert_eq!(json["openid"], sim.openid_for("alice"));
    assert_eq!(sim.calls(Endpoint::AccessToken), 3);
    assert_eq!(sim.calls(Endpoint::UserInfo), 0);
}

#[tokio::test]
async fn delay_fault_waits_then_answers_normally() {
    let (sim, running) = start(config()).await;
    let client = client();
    sim.inject(
        Endpoint::AccessToken,
        Fault::Delay(Duration::from_millis(400)),
        1,
    );
    let started = Instant::now();
    let json = exchange(
        &client,
        &running.base_url,
        &sim.issue_code("bo", Scope::Base),
    )
    .await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(json["openid"], sim.openid_for("bo"));

    // A client with a shorter timeout gives up.
    sim.inject(
        Endpoint::AccessToken,
        Fault::Delay(Duration::from_secs(5)),
        1,
    );
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let result = impatient
        .get(exchange_url(&running.base_url, "whatever"))
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
}

#[tokio::test]
async fn status_fault_serves_a_gateway_page() {
    let (sim, running) = start(config()).await;
    let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    sim.inject(Endpoint::UserInfo, Fault::Status(502, page.into()), 1);
    let response = client()
        .get(format!(
            "{}/sns/userinfo?access_token=x&openid=y",
            running.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(content_type(&response).starts_with("text/html"));
    assert_eq!(response.text().await.unwrap(), page);
}

#[tokio::test]
async fn body_fault_serves_exactly_that_body() {
    let (sim, running) = start(config()).await;
    let client = client();
    let truncated = r#"{"access_token":"ACCESS_TOK"#;
    let huge = "x".repeat(5 * 1024 * 1024);
    sim.inject(Endpoint::AccessToken, Fault::Body(truncated.into()), 1);
    sim.inject(Endpoint::AccessToken, Fault::Body(huge.clone()), 1);
    for expected in [truncated, huge.as_str()] {
        let response = client
            .get(exchange_url(&running.base_url, "c"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(content_type(&response), "text/plain");
        assert_eq!(response.text().await.unwrap(), expected);
    }
}

async fn assert_connection_dropped(client: &reqwest::Client, url: &str) {
    let error = client
        .get(url)
        .send()
        .await
        .expect_err("a dropped connection must not look like a response");
    assert!(!error.is_timeout(), "{error:?}");
    assert!(error.status().is_none(), "{error:?}");
}

#[tokio::test]
async fn drop_connection_fault_is_a_transport_error() {
    let (sim, running) = start(config()).await;
    let client = client();
    let code = sim.issue_code("cy", Scope::UserInfo);
    sim.inject(Endpoint::AccessToken, Fault::DropConnection, 2);
    sim.inject(Endpoint::UserInfo, Fault::DropConnection, 1);
    for _ in 0..2 {
        assert_connection_dropped(&client, &exchange_url(&running.base_url, &code)).await;
    }
    assert_connection_dropped(
        &client,
        &format!("{}/sns/userinfo?access_token=a&openid=b", running.base_url),
    )
    .await;
    // The server survives and the code was never touched.
    let json = exchange(&client, &running.base_url, &code).await;
    assert_eq!(json["openid"], sim.openid_for("cy"));
    assert_eq!(sim.calls(Endpoint::AccessToken), 3);
    assert_eq!(sim.calls(Endpoint::UserInfo), 1);
}

#[tokio::test]
async fn drop_connection_also_works_when_nested_in_someone_elses_server() {
    let sim = WeChatSimulator::new(config());
    let app = axum::Router::new().nest("/wx", sim.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/wx", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    sim.inject(Endpoint::AccessToken, Fault::DropConnection, 1);
    assert_connection_dropped(&client(), &exchange_url(&base, "c")).await;
    server.abort();
}

#[tokio::test]
async fn until_cleared_faults_persist_and_clear_faults_removes_them() {
    let (sim, running) = start(config()).await;
    let client = client();
    sim.inject(
        Endpoint::UserInfo,
        Fault::Errcode(-1, "system error".into()),
        usize::MAX,
    );
    for _ in 0..5 {
        let json = userinfo(&client, &running.base_url, "t", "o").await;
        assert_eq!(errcode(&json), -1);
    }
    sim.clear_faults();
    let json = userinfo(&client, &running.base_url, "t", "o").await;
    assert_error(
        &json,
        40001,
        "invalid credential, access_token is invalid or not latest",
    );
    assert_eq!(sim.calls(Endpoint::UserInfo), 6);
}

#[tokio::test]
async fn drop_connection_sends_not_a_single_byte() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (sim, running) = start(config()).await;
    sim.inject(Endpoint::AccessToken, Fault::DropConnection, 1);
    let addr = running.base_url.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET /sns/oauth2/access_token?appid=a HTTP/1.1\r\nHost: wechat\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    // Either a clean EOF or a reset is fine; what matters is that no status line arrived.
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut received))
        .await
        .expect("the server must close the connection");
    assert!(
        received.is_empty(),
        "got {:?}",
        String::from_utf8_lossy(&received)
    );
}
