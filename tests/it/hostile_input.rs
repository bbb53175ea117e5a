//! `/auth` with hostile input: open-redirect tricks, bad scopes and modes, malformed query
//! strings. Every refusal is a 400 with a clear error, never a Location, and nothing is
//! stored.

use wxauth_core::Scope;
use wxauth_tests::*;

/// Allowed: https://app.example.com, https://*.shop.example.com, http://127.0.0.1:8080.
const HOSTILE_RETURN_URLS: &[&str] = &[
    // Not on the allowlist at all.
    "https://evil.com/",
    "https://evil.com/https://app.example.com/",
    "https://app.example.com.evil.com/",
    "https://evilapp.example.com/",
    "https://example.com/",
    "https://shop.example.com/",
    "https://x.shop.example.com.evil.com/",
    // Scheme and port.
    "http://app.example.com/",
    "https://app.example.com:8443/",
    "https://app.example.com:443/",
    "http://127.0.0.1:8081/",
    "http://127.0.0.1/",
    "http://127.0.0.1:80/",
    "HTTPS://app.example.com/",
    "Https://app.example.com/",
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)//https://app.example.com/",
    "data:text/html,<script>alert(1)</script>",
    "ftp://app.example.com/",
    "wss://app.example.com/",
    // Relative and scheme-relative.
    "//evil.com/",
    "///evil.com/",
    "/\\evil.com",
    "/path",
    "app.example.com/",
    "https:evil.com",
    "https:/evil.com",
    "https:///evil.com/",
    // Backslashes.
    "https://app.example.com\\@evil.com/",
    "https:\\\\evil.com\\app.example.com",
    "https://evil.com\\.app.example.com/",
    // Userinfo.
    "https://app.example.com@evil.com/",
    "https://app.example.com:443@evil.com/",
    "https://user:pass@app.example.com/",
    "https://@app.example.com/",
    "https://evil.com%40app.example.com/",
    // Encoded, unicode and IDN hosts.
    "https://app%2eexample%2ecom/",
    "https://%61pp.example.com/",
    "https://app.exаmple.com/",
    "https://ａｐｐ.example.com/",
    "https://app.example.com%2f@evil.com/",
    "https://app.example.com%00.evil.com/",
    "https://xn--pp-8cd.example.com/",
    // Case, trailing dots, IPv4 tricks.
    "https://APP.EXAMPLE.COM/",
    "https://app.example.com./",
    "https://x.shop.example.com./",
    "http://0x7f.0.0.1:8080/",
    "http://2130706433:8080/",
    "http://127.1:8080/",
    "http://[::ffff:127.0.0.1]:8080/",
    // Whitespace and control bytes.
    " https://app.example.com/",
    "https://app.example.com/ ",
    "https://app.example.com/\t",
    "\thttps://app.example.com/",
    "https://app.exa\nmple.com/",
    "https://app.example.com/\r\nSet-Cookie:x=1",
    "https://app.example.com/\u{0}",
    "https://evil.com\u{3002}app.example.com/",
    // Browser rewrites of the path (dot segments) and percent-encoding differences.
    "https://app.example.com/a/../b",
    "https://app.example.com/./x",
    "https://app.example.com/%2e%2e/x",
    "https://app.example.com/a b",
    "https://app.example.com/<x>",
    // Hosts that are not DNS names, under the wildcard (a fuzzer's finds).
    "https://a..shop.example.com/",
    "https://x-1....shop.example.com//evil.com",
    "https://de..ep.'a.shop.example.com/",
    "https://*.shop.example.com/",
    "https://a_b.shop.example.com/",
    "https://-x.shop.example.com/",
    "https://x-.shop.example.com/",
    "https://a!b.shop.example.com/",
];

const LEGITIMATE_RETURN_URLS: &[&str] = &[
    "https://app.example.com/",
    "https://app.example.com",
    "https://app.example.com?from=menu",
    "https://app.example.com/index.html",
    "https://app.example.com/a/b/c?x=1&y=2#section",
    "https://app.example.com/#/home?tab=me",
    "https://app.example.com/p?q=%E4%B8%AD%E6%96%87",
    "https://tea.shop.example.com/",
    "https://a.b.shop.example.com/cart?id=42",
    "http://127.0.0.1:8080/dev",
    "https://app.example.com/?redirect=https%3A%2F%2Fevil.com",
    "https://xn--fiq228c.shop.example.com/",
    "https://x-1.y2.shop.example.com/",
];

async fn stored_items(env: &TestEnv) -> i32 {
    env.dynamo
        .scan()
        .table_name(&env.table)
        .send()
        .await
        .unwrap()
        .count()
}

#[tokio::test]
async fn hostile_return_urls_are_refused() {
    assert!(HOSTILE_RETURN_URLS.len() >= 40);
    let env = TestEnv::start().await;
    let too_long = format!("https://app.example.com/{}", "a".repeat(5000));
    for url in HOSTILE_RETURN_URLS
        .iter()
        .copied()
        .chain([too_long.as_str()])
    {
        let response = env
            .auth(&encode(&[("url", url), ("scope", "snsapi_base")]))
            .await;
        assert_eq!(response.status(), 400, "accepted {url:?}");
        assert!(location(&response).is_none(), "{url:?} redirected");
        let body = json_body(&response);
        assert_eq!(body["error"], "invalid_request", "{url:?}");
        assert!(
            body["error_description"].as_str().unwrap().contains("url"),
            "{url:?}: {body}"
        );
    }
    assert_eq!(stored_items(&env).await, 0, "a refused login stored state");
}

#[tokio::test]
async fn legitimate_return_urls_are_accepted() {
    assert!(LEGITIMATE_RETURN_URLS.len() >= 10);
    let env = TestEnv::start().await;
    for url in LEGITIMATE_RETURN_URLS {
        let authorize = env.start_login(url, Scope::Base, None).await;
        assert!(
            authorize.contains("/connect/oauth2/authorize?appid="),
            "{url}"
        );
    }
    assert_eq!(
        stored_items(&env).await,
        LEGITIMATE_RETURN_URLS.len() as i32
    );
}

#[tokio::test]
async fn the_return_url_comes_back_unchanged_but_for_our_parameters() {
    let env = TestEnv::start().await;
    let landing = env
        .login(
            "quinn",
            "https://app.example.com/p?q=%E4%B8%AD%E6%96%87#top",
            Scope::Base,
            None,
        )
        .await;
    assert!(
        landing.starts_with("https://app.example.com/p?q=%E4%B8%AD%E6%96%87&openid="),
        "{landing}"
    );
    assert!(landing.ends_with("#top"), "{landing}");
}

#[tokio::test]
async fn scope_and_response_mode_are_checked() {
    let env = TestEnv::start().await;
    let url = "https://app.example.com/";
    let cases: &[(String, &str)] = &[
        (encode(&[("url", url)]), "invalid_request"),
        (encode(&[("scope", "snsapi_base")]), "invalid_request"),
        (
            encode(&[("url", url), ("scope", "snsapi_login")]),
            "invalid_scope",
        ),
        (
            encode(&[("url", url), ("scope", "SNSAPI_BASE")]),
            "invalid_scope",
        ),
        (encode(&[("url", url), ("scope", "")]), "invalid_scope"),
        (
            encode(&[("url", url), ("scope", "snsapi_base snsapi_userinfo")]),
            "invalid_scope",
        ),
        (
            encode(&[
                ("url", url),
                ("scope", "snsapi_base"),
                ("response_mode", "FORM_POST"),
            ]),
            "invalid_request",
        ),
        (
            encode(&[
                ("url", url),
                ("scope", "snsapi_base"),
                ("response_mode", ""),
            ]),
            "invalid_request",
        ),
    ];
    for (query, expected) in cases {
        let response = env.auth(query).await;
        assert_eq!(response.status(), 400, "{query}");
        assert!(location(&response).is_none());
        assert_eq!(json_body(&response)["error"], *expected, "{query}");
    }
    assert_eq!(stored_items(&env).await, 0);
}

#[tokio::test]
async fn malformed_query_strings_are_refused_clearly() {
    let env = TestEnv::start().await;
    let good_url = encode(&[("url", "https://app.example.com/")]);
    let cases = [
        format!("{good_url}&scope=snsapi_base&scope=snsapi_userinfo"),
        format!("{good_url}&{good_url}&scope=snsapi_base"),
        "url=https%3A%2F%2Fapp.example.com%2F%zz&scope=snsapi_base".to_owned(),
        "url=https%3A%2F%2Fapp.example.com%2F%&scope=snsapi_base".to_owned(),
        "url=%FF%FE%FD&scope=snsapi_base".to_owned(),
        format!("url={}&scope=snsapi_base", "a".repeat(20_000)),
        format!("{good_url}&scope=snsapi_base&x={}", "%41".repeat(10_000)),
    ];
    for query in &cases {
        let response = env.auth(query).await;
        assert_eq!(response.status(), 400, "{}", &query[..query.len().min(80)]);
        assert!(location(&response).is_none());
        let body = json_body(&response);
        assert_eq!(body["error"], "invalid_request");
        assert!(!body["error_description"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn html_error_pages_escape_what_they_echo() {
    let env = TestEnv::start().await;
    let response = env
        .auth_accepting(
            &encode(&[
                (
                    "url",
                    "https://APP.example.com/\"><script>alert(1)</script>",
                ),
                ("scope", "snsapi_base"),
            ]),
            "text/html",
        )
        .await;
    assert_eq!(response.status(), 400);
    let page = body_text(&response);
    assert!(
        page.contains("&lt;script&gt;") || page.contains("%3Cscript%3E"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn only_get_is_answered() {
    let env = TestEnv::start().await;
    let mut event = api_gateway_event("$default", "/auth", "", None);
    event.request_context.http.method = http::Method::POST;
    let response =
        wxauth_lambda::handle(&env.gateway, &wxauth_lambda::functions::AUTH, event).await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
}

#[tokio::test]
async fn raw_bytes_api_gateway_passes_through_are_refused_not_panicked_on() {
    // API Gateway hands over the query string as the client sent it, unencoded bytes included.
    let env = TestEnv::start().await;
    for query in [
        "url=https://app.example.com/\"<>{}|^`&scope=snsapi_base",
        "url=https://app.example.com/中文&scope=snsapi_base",
        "url=https://app.example.com/%E4%B8%AD&scope=snsapi_base&x=\u{7f}",
        "url=https://app.example.com/ x&scope=snsapi_base",
    ] {
        let response = env.auth(query).await;
        assert_eq!(response.status(), 400, "{query}: {}", body_text(&response));
        assert!(location(&response).is_none());
    }
}

/// The longest accepted URL, counted as stored (the canonical form: a bare origin gains
/// the `/` the browser adds), both with and without a path.
fn url_of_stored_length(length: usize, with_path: bool) -> String {
    let origin = "https://app.example.com";
    if with_path {
        format!("{origin}/{}", "p".repeat(length - origin.len() - 1))
    } else {
        // "?" + query, plus the "/" the parser inserts before it.
        format!("{origin}?{}", "q".repeat(length - origin.len() - 2))
    }
}

/// Through whatever store `env`'s gateway uses: the longest return URL is accepted at
/// `/auth`, stored, read back and completed at the callback; one more character is refused
/// at `/auth`, before anything is stored.
async fn the_limit_holds_at_the_boundary(env: &TestEnv) {
    use wxauth_core::return_url::MAX_RETURN_URL_LEN;
    for with_path in [true, false] {
        let longest = url_of_stored_length(MAX_RETURN_URL_LEN, with_path);
        let landing = env.login("ursula", &longest, Scope::Base, None).await;
        let stored = longest.replacen(".com?", ".com/?", 1);
        assert_eq!(stored.len(), MAX_RETURN_URL_LEN);
        assert!(landing.starts_with(&stored), "{}", &landing[..80]);
        assert_eq!(
            result_params(&landing, false)["openid"],
            env.sim.openid_for("ursula")
        );
        let one_more = url_of_stored_length(MAX_RETURN_URL_LEN + 1, with_path);
        let response = env
            .auth(&encode(&[("url", &one_more), ("scope", "snsapi_base")]))
            .await;
        assert_refused(&response, "invalid_request", "longer than 5000");
    }
    // Without a path, 5,000 characters as sent are 5,001 as stored: refused at /auth, not
    // spent and lost at the callback.
    let sent_5000 = format!("https://app.example.com?{}", "q".repeat(5000 - 24));
    assert_eq!(sent_5000.len(), 5000);
    let response = env
        .auth(&encode(&[("url", &sent_5000), ("scope", "snsapi_base")]))
        .await;
    assert_refused(&response, "invalid_request", "longer than 5000");
}

#[tokio::test]
async fn the_longest_return_url_completes_through_dynamodb() {
    the_limit_holds_at_the_boundary(&TestEnv::start().await).await;
}

#[tokio::test]
async fn the_longest_return_url_completes_through_the_in_memory_store() {
    use std::sync::Arc;
    use wxauth_core::store::MemoryStateStore;
    let env = TestEnv::start().await;
    let vars = env.vars().clone();
    let config = wxauth_core::Config::from_lookup(|n| vars.get(n).cloned()).unwrap();
    let memory = wxauth_core::Gateway::new(
        config,
        Arc::new(MemoryStateStore::new()),
        wxauth_core::WeChatClient::http_client(),
    );
    the_limit_holds_at_the_boundary(&env.with_gateway(memory)).await;
}
