//! Starting up: configuration errors, and requests no browser would send.

use wxauth_local::StartError;

use crate::support::{self, get, raw, start_with};

fn problem_names(err: StartError) -> Vec<&'static str> {
    match err {
        StartError::Config(err) => err.problems.iter().map(|(name, _)| *name).collect(),
        other => panic!("expected a configuration error, got {other}"),
    }
}

#[tokio::test]
async fn configuration_errors_name_every_variable_and_no_secret() {
    let err = start_with(&[
        ("WECHAT_APP_ID", "wx0123456789abcdef"),
        ("TOKEN_SIGNING_KEY", "short-s3cr3t"),
        ("STATE_TTL_SECONDS", "ten"),
    ])
    .await
    .err()
    .expect("the configuration is incomplete");
    let text = err.to_string();
    assert!(!text.contains("short-s3cr3t"), "{text}");
    assert!(
        text.contains("WECHAT_APP_SECRET: is required but not set"),
        "{text}"
    );
    assert_eq!(
        problem_names(err),
        [
            "WECHAT_APP_SECRET",
            "ALLOWED_RETURN_ORIGINS",
            "TOKEN_SIGNING_KEY",
            "STATE_TTL_SECONDS"
        ]
    );
}

#[tokio::test]
async fn the_demo_is_validated_like_a_deployment() {
    let err = start_with(&[
        (
            "ALLOWED_RETURN_ORIGINS",
            "https://app.example.com/path#frag",
        ),
        ("WECHAT_TIMEOUT_MS", "60000"),
    ])
    .await
    .err()
    .expect("the user's settings are invalid");
    assert_eq!(
        problem_names(err),
        ["ALLOWED_RETURN_ORIGINS", "WECHAT_TIMEOUT_MS"]
    );
    // An empty WECHAT_APP_ID counts as unset: the demo, not a configuration error.
    let server = start_with(&[("WECHAT_APP_ID", " ")]).await.unwrap();
    assert!(server.demo_signing_key.is_some());
}

#[tokio::test]
async fn an_unusable_extra_roots_file_stops_the_start_with_its_name() {
    let err = start_with(&[("WECHAT_API_EXTRA_CA_FILE", "/nonexistent/roots.pem")])
        .await
        .err()
        .expect("the file does not exist");
    let text = err.to_string();
    assert!(
        text.contains("WECHAT_API_EXTRA_CA_FILE: cannot read /nonexistent/roots.pem"),
        "{text}"
    );
    assert_eq!(problem_names(err), ["WECHAT_API_EXTRA_CA_FILE"]);
}

#[tokio::test]
async fn host_header_garbage_gets_an_error_not_a_crash() {
    let server = start_with(&[]).await.unwrap();
    let port = support::port_of(&server);
    let auth =
        format!("/auth?url=http%3A%2F%2F127.0.0.1%3A{port}%2Fdemo%2Fresult&scope=snsapi_base");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "no Host",
            format!("GET {auth} HTTP/1.1\r\nConnection: close\r\n\r\n").into_bytes(),
        ),
        (
            "HTTP/1.0 without Host",
            format!("GET {auth} HTTP/1.0\r\n\r\n").into_bytes(),
        ),
        (
            "a path in Host",
            format!("GET {auth} HTTP/1.1\r\nHost: evil.com/x?\r\nConnection: close\r\n\r\n")
                .into_bytes(),
        ),
        (
            "userinfo in Host",
            format!("GET {auth} HTTP/1.1\r\nHost: a@evil.com\r\nConnection: close\r\n\r\n")
                .into_bytes(),
        ),
        (
            "two Hosts",
            format!(
                "GET {auth} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.com\r\n\
                 Connection: close\r\n\r\n"
            )
            .into_bytes(),
        ),
        (
            "non-UTF-8 Host",
            [
                format!("GET {auth} HTTP/1.1\r\nHost: ").as_bytes(),
                b"\xff\xfe",
                b"\r\nConnection: close\r\n\r\n",
            ]
            .concat(),
        ),
    ];
    for (what, request) in cases {
        let (status, body) = raw(&server.base_url, &request).await;
        assert_eq!(status, 500, "{what}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"], "server_error", "{what}");
    }

    // With a usable Host, a malformed query is the core's 400.
    let request = format!(
        "GET /auth?url=%ZZ HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
    );
    let (status, body) = raw(&server.base_url, request.as_bytes()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid_request"), "{body}");

    // The demo pages cope too.
    let request =
        "GET /demo/result?token=abc HTTP/1.1\r\nHost: evil.com/x\r\nConnection: close\r\n\r\n";
    let (status, body) = raw(&server.base_url, request.as_bytes()).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Host header is not a valid host[:port]"),
        "{body}"
    );
    let request = "GET / HTTP/1.1\r\nHost: evil.example:1\r\nConnection: close\r\n\r\n";
    let (status, body) = raw(&server.base_url, request.as_bytes()).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(&format!("Open <a href=\"{}/\">", server.base_url)),
        "{body}"
    );
    assert!(
        body.contains("url=http%3A%2F%2Fevil.example%3A1%2Fdemo%2Fresult"),
        "{body}"
    );

    // And the server still answers normally.
    let page = get(&format!("{}{auth}", server.base_url), &[]).await;
    assert_eq!(page.status, 302);
}

#[tokio::test]
async fn a_public_base_url_makes_the_host_header_irrelevant() {
    let server = start_with(&[("PUBLIC_BASE_URL", "https://login.example.com/wx")])
        .await
        .unwrap();
    let port = support::port_of(&server);
    let request = format!(
        "GET /auth?url=http%3A%2F%2F127.0.0.1%3A{port}%2Fdemo%2Fresult&scope=snsapi_base HTTP/1.1\r\n\
         Connection: close\r\n\r\n"
    );
    let (status, _) = raw(&server.base_url, request.as_bytes()).await;
    assert_eq!(status, 302);
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let server = start_with(&[]).await.unwrap();
    let base = server.base_url.clone();
    assert_eq!(get(&format!("{base}/"), &[]).await.status, 200);
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(
        support::client()
            .get(format!("{base}/"))
            .send()
            .await
            .is_err()
    );
}

/// A body over the adapter's limit is refused before the gateway sees it, with the headers
/// every answer carries and a media type (docs/openapi.yaml, found by checking it).
#[tokio::test]
async fn an_oversized_body_gets_the_common_headers() {
    let server = start_with(&[]).await.unwrap();
    let response = support::client()
        .post(format!("{}/oauth2/token", server.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 70 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let headers = response.headers();
    for (name, value) in [
        ("content-type", "text/plain; charset=utf-8"),
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(
            headers.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name}"
        );
    }
}

#[tokio::test]
async fn every_wechat_apps_problem_is_named_and_no_secret_shown() {
    let err = start_with(&[
        (
            "WECHAT_APPS",
            r#"[{"name":"mp","kind":"official_account","app_id":"wx1","app_secret":"s3cr3t one","qr_app":"web"},
                {"name":"mp","kind":"website","app_id":"wx1","app_secret":"s3cr3t-two"}]"#,
        ),
        ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ("TOKEN_SIGNING_KEY", "0123456789abcdef0123456789abcdef"),
    ])
    .await
    .err()
    .expect("the apps are invalid");
    let text = err.to_string();
    assert!(
        text.contains("WECHAT_APPS: app `mp`: app_secret must be printable ASCII"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "{text}");
    assert_eq!(problem_names(err), ["WECHAT_APPS"]);
}
