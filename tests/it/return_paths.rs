//! Allowlist entries with a path (`https://host/prefix/`, `https://host/exact`), through the
//! real handlers against DynamoDB Local and the simulator: checked when the login starts
//! and again at the callback, with a refused URL never repeated with its query.

use wechat_simulator::Endpoint;
use wxauth_core::Scope;
use wxauth_tests::*;

const PATH_ENTRIES: &str = "https://app.example.com/app/,https://app.example.com/cb";

async fn with_path_entries() -> TestEnv {
    TestEnv::start_with(|s| {
        s.vars
            .insert("ALLOWED_RETURN_ORIGINS", PATH_ENTRIES.to_owned());
    })
    .await
}

#[tokio::test]
async fn a_login_starts_only_for_a_url_under_a_prefix_or_at_an_exact_path() {
    let env = with_path_entries().await;
    for allowed in [
        "https://app.example.com/app/",
        "https://app.example.com/app/deep/page?x=1",
        "https://app.example.com/cb",
        "https://app.example.com/cb?next=%2Fhome",
    ] {
        let response = env
            .auth(&encode(&[("url", allowed), ("scope", "snsapi_base")]))
            .await;
        assert_eq!(
            response.status(),
            302,
            "{allowed}: {}",
            body_text(&response)
        );
    }
    for refused in [
        "https://app.example.com/app",
        "https://app.example.com/application/",
        "https://app.example.com/cb/",
        "https://app.example.com/",
        "https://app.example.com/go?to=https://evil.example&token=SECRETQUERY",
        "https://app.example.com/app/..%2Fgo",
    ] {
        let response = env
            .auth(&encode(&[("url", refused), ("scope", "snsapi_base")]))
            .await;
        assert_refused(&response, "invalid_request", "ALLOWED_RETURN_ORIGINS");
        assert!(location(&response).is_none(), "{refused}");
        let body = body_text(&response);
        assert!(
            !body.contains("evil.example") && !body.contains("SECRETQUERY"),
            "{body}"
        );
    }
    // Nothing was stored for the refusals: the table holds the four started logins only.
    assert_eq!(env.stored_items().await, 4);
}

#[tokio::test]
async fn a_whole_login_returns_under_the_prefix() {
    let env = with_path_entries().await;
    let landed = env
        .login(
            "ana",
            "https://app.example.com/app/me?tab=2",
            Scope::Base,
            None,
        )
        .await;
    assert!(
        landed.starts_with("https://app.example.com/app/me?tab=2&"),
        "{landed}"
    );
    assert!(
        result_params(&landed, false).contains_key("token"),
        "{landed}"
    );
}

#[tokio::test]
async fn a_narrowed_path_entry_is_applied_again_at_the_callback() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/other/page", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "wes", true).await;
    // The operator narrows the origin to a path: the stored URL is outside it now.
    let mut vars = env.vars().clone();
    vars.insert("ALLOWED_RETURN_ORIGINS", PATH_ENTRIES.into());
    let env = env.with_gateway_vars(vars).await;
    let response = env.follow_callback(&callback).await;
    assert_refused(
        &response,
        "invalid_state",
        "no longer in ALLOWED_RETURN_ORIGINS",
    );
    assert_eq!(
        env.sim.calls(Endpoint::AccessToken),
        0,
        "WeChat was not asked"
    );
}
