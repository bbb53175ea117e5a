//! The redirect mode's return rules through the function binaries, with template.yaml's
//! variables: allowlist entries with a path (a prefix, an exact URL), response modes
//! (`fragment` only when `RESPONSE_MODES` lists it) and a refused return URL kept out of
//! the response and the auth function's log lines with its query and fragment.

use std::time::{Duration, Instant};

use wxauth_tests::template;
use wxauth_tests::{DOMAIN, encode, exclusive, result_params};

use super::{Browser, Stack, location, verify};

/// A prefix entry and an exact one, as a deployment recommended by docs/reference.md has them.
const PATH_ENTRIES: &str = "https://app.example.com/login/,https://app.example.com/cb";

/// ResponseModes as template.yaml defaults it: what a deployment that leaves it alone gets.
fn template_response_modes() -> String {
    template::scalar(&template::cached()["Parameters"]["ResponseModes"]["Default"])
}

/// A stack with the path entries and `RESPONSE_MODES` = `modes`.
async fn deploy(modes: String) -> Stack {
    Stack::deploy("$default", |env| {
        env.insert("ALLOWED_RETURN_ORIGINS".into(), PATH_ENTRIES.into());
        env.insert("RESPONSE_MODES".into(), modes);
    })
    .await
}

fn auth_url(stack: &Stack, return_url: &str, mode: Option<&str>) -> String {
    let mut query = vec![("url", return_url), ("scope", "snsapi_base")];
    query.extend(mode.map(|m| ("response_mode", m)));
    format!("{}/auth?{}", stack.api.base_url(), encode(&query))
}

/// `/auth` with `return_url` must start a login: a redirect to WeChat.
async fn starts(stack: &Stack, return_url: &str, mode: Option<&str>) {
    let response = Browser::new().get(&auth_url(stack, return_url, mode)).await;
    let status = response.status();
    assert_eq!(
        status,
        302,
        "{return_url}: {}",
        response.text().await.unwrap()
    );
    assert!(
        location(&response).ends_with("#wechat_redirect"),
        "{return_url}"
    );
}

/// `/auth` with `return_url` must be the auth function's 400 `invalid_request` whose
/// description names `because`, without a redirect and without a single DynamoDB call (so
/// nothing is stored). Returns the body.
async fn refused(stack: &Stack, return_url: &str, mode: Option<&str>, because: &str) -> String {
    let calls = stack.dynamodb["auth"].targets().len();
    let response = Browser::new().get(&auth_url(stack, return_url, mode)).await;
    assert_eq!(response.status(), 400, "{return_url}");
    assert!(response.headers().get("location").is_none(), "{return_url}");
    let text = response.text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"], "invalid_request", "{return_url}: {body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains(because),
        "{return_url}: {description:?}"
    );
    assert_eq!(
        stack.dynamodb["auth"].targets().len(),
        calls,
        "{return_url}: the auth function called DynamoDB for a refusal"
    );
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_entries_through_the_function_binaries() {
    let _exclusive = exclusive().await;
    let stack = deploy(template_response_modes()).await;
    for allowed in [
        "https://app.example.com/login/",
        "https://app.example.com/login/x",
        "https://app.example.com/cb",
        "https://app.example.com/cb?next=%2Fhome",
    ] {
        starts(&stack, allowed, None).await;
    }
    for outside in [
        // Beside the prefix, at its parent without the slash, and above it.
        "https://app.example.com/login-other",
        "https://app.example.com/login",
        "https://app.example.com/",
        // The exact entry takes no other path, not even one more slash.
        "https://app.example.com/cb/",
        "https://app.example.com/cbx",
    ] {
        refused(&stack, outside, None, "ALLOWED_RETURN_ORIGINS").await;
    }

    // A whole login under the prefix, finished by the callback binary, which checks the
    // stored URL against the entries again.
    let landed = stack
        .login(
            &Browser::new(),
            "pia",
            "snsapi_base",
            "https://app.example.com/login/x?tab=2",
        )
        .await;
    assert!(
        landed.starts_with("https://app.example.com/login/x?tab=2&"),
        "{landed}"
    );
    let params = result_params(&landed, false);
    let claims = verify(&params["token"], &format!("https://{DOMAIN}"));
    assert_eq!(claims["sub"], stack.sim.openid_for("pia").as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragment_only_when_response_modes_lists_it_through_the_function_binaries() {
    let _exclusive = exclusive().await;
    let modes = template_response_modes();
    assert!(!modes.split(',').any(|m| m == "fragment"), "{modes}");
    let by_default = deploy(modes).await;
    refused(
        &by_default,
        "https://app.example.com/login/x",
        Some("fragment"),
        "response_mode fragment is not allowed",
    )
    .await;
    starts(
        &by_default,
        "https://app.example.com/login/x",
        Some("query"),
    )
    .await;
    starts(
        &by_default,
        "https://app.example.com/login/x",
        Some("form_post"),
    )
    .await;
    drop(by_default);

    let listed = deploy("query,fragment".into()).await;
    let browser = Browser::new();
    let auth = auth_url(&listed, "https://app.example.com/login/x", Some("fragment"));
    let (landed, _) = listed
        .through_wechat(&browser, &auth, "fern", "/getOpenId")
        .await;
    assert!(
        landed.starts_with("https://app.example.com/login/x#openid="),
        "{landed}"
    );
    let params = result_params(&landed, true);
    assert_eq!(params["openid"], listed.sim.openid_for("fern"));
    verify(&params["token"], &format!("https://{DOMAIN}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_return_url_is_never_echoed_or_logged_with_its_query_or_fragment() {
    let _exclusive = exclusive().await;
    let stack = deploy(template_response_modes()).await;
    // Outside the entries, and (an upper-case host) not in a browser's form: each refused
    // for its own reason, each carrying what could be someone's code or token.
    for (return_url, because) in [
        (
            "https://app.example.com/go?to=https://evil.example&code=QUERYSECRET1#FRAGSECRET1",
            "ALLOWED_RETURN_ORIGINS",
        ),
        (
            "https://APP.example.com/login/x?code=QUERYSECRET2#FRAGSECRET2",
            "https://app.example.com/login/x?…#…",
        ),
    ] {
        let body = refused(&stack, return_url, None, because).await;
        for secret in ["QUERYSECRET", "FRAGSECRET", "evil.example"] {
            assert!(!body.contains(secret), "{secret} echoed: {body}");
        }
    }
    // Each refusal's own log line, the one that names why (the output is read from the
    // process's pipe: wait for it).
    let refusal_lines = || -> Vec<String> {
        let logs = stack.environments["auth"].logs().into_iter();
        logs.filter(|l| l.contains("\"message\":\"request refused\""))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while refusal_lines().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let lines = refusal_lines();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[0].contains("ALLOWED_RETURN_ORIGINS"), "{}", lines[0]);
    assert!(
        lines[1].contains("https://app.example.com/login/x?…#…"),
        "{}",
        lines[1]
    );
    // Nor any other line of any function.
    let logs = stack.logs();
    for secret in ["QUERYSECRET", "FRAGSECRET", "evil.example"] {
        assert!(!logs.contains(secret), "{secret} logged: {logs}");
    }
}
