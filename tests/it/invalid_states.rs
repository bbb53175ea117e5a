//! A callback whose state is missing, unknown, replayed, expired or for the other route is
//! a 400 without a Location, and WeChat is never asked.

use aws_sdk_dynamodb::types::AttributeValue;
use wechat_simulator::{Endpoint, Scope as SimScope};
use wxauth_core::Scope;
use wxauth_core::login_state::now_epoch_seconds;
use wxauth_tests::*;

async fn refused_callback(env: &TestEnv, scope: Scope, query: &str, expected: &str, because: &str) {
    assert_refused(&env.callback(scope, query).await, expected, because);
}

const NOT_OURS: &str = "not one this gateway issues";

#[tokio::test]
async fn a_state_is_single_use_for_any_other_callback() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "ivy", true).await;
    assert_eq!(env.follow_callback(&callback).await.status(), 302);
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 1);

    // The same state with another code is not a repeat of that callback.
    let other_code = env.sim.issue_code("ivy", SimScope::Base);
    let query = encode(&[("code", &other_code), ("state", &state_of(&authorize))]);
    let replay = env.callback(Scope::Base, &query).await;
    assert_refused(&replay, "invalid_state", "already completed");
    assert_eq!(
        env.sim.calls(Endpoint::AccessToken),
        1,
        "nothing sent to WeChat"
    );
}

#[tokio::test]
async fn unknown_missing_and_malformed_states_are_refused() {
    let env = TestEnv::start().await;
    let code = env.sim.issue_code("jack", SimScope::Base);
    let code_q = encode(&[("code", &code)]);
    refused_callback(
        &env,
        Scope::Base,
        &format!("{code_q}&state=NeverIssued0123456789abcdefABCDEF"),
        "invalid_state",
        "unknown or was already completed",
    )
    .await;
    let required = "the `state` parameter is required";
    refused_callback(&env, Scope::Base, &code_q, "invalid_request", required).await;
    for bad in ["", "abc-def", &"a".repeat(129)] {
        let query = format!("{code_q}&state={bad}");
        refused_callback(&env, Scope::Base, &query, "invalid_state", NOT_OURS).await;
    }
    let repeated = "the parameter `state` appears more than once";
    let (user, request) = (Scope::UserInfo, "invalid_request");
    refused_callback(&env, user, "state=a&state=b", request, repeated).await;
    let encoding = "invalid percent-encoding";
    refused_callback(&env, user, "state=%zz", request, encoding).await;
    refused_callback(&env, user, "", request, required).await;
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 0);
}

#[tokio::test]
async fn an_expired_state_is_refused_even_before_ttl_deletes_it() {
    let env = TestEnv::start().await;
    // DynamoDB's TTL deletes items hours late: an expired item can still be there.
    env.dynamo
        .put_item()
        .table_name(&env.table)
        .item(
            "state",
            AttributeValue::S("ExpiredState0123456789abcdefABCD".into()),
        )
        .item("scope", AttributeValue::S("snsapi_base".into()))
        .item(
            "return_url",
            AttributeValue::S("https://app.example.com/".into()),
        )
        .item("response_mode", AttributeValue::S("query".into()))
        .item(
            "expires_at",
            AttributeValue::N((now_epoch_seconds() - 1).to_string()),
        )
        .send()
        .await
        .unwrap();
    let code = env.sim.issue_code("kate", SimScope::Base);
    let query = encode(&[
        ("code", &code),
        ("state", "ExpiredState0123456789abcdefABCD"),
    ]);
    let response = env.callback(Scope::Base, &query).await;
    assert_refused(&response, "invalid_state", "expired");
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 0);
}

#[tokio::test]
async fn a_state_for_the_other_route_is_refused() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let state = state_of(&authorize);
    let code = env.sim.issue_code("leo", SimScope::UserInfo);
    let query = encode(&[("code", &code), ("state", &state)]);
    let response = env.callback(Scope::UserInfo, &query).await;
    assert_refused(&response, "invalid_state", "other callback");
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 0);

    // A misrouted attempt consumes nothing: the right route still finishes the login,
    // once.
    let code = env.sim.issue_code("leo", SimScope::Base);
    let query = encode(&[("code", &code), ("state", &state)]);
    let right = env.callback(Scope::Base, &query).await;
    assert_eq!(right.status(), 302, "{}", body_text(&right));
    let landing = location(&right).unwrap();
    assert_eq!(
        result_params(&landing, false)["openid"],
        env.sim.openid_for("leo")
    );
    let again = env.callback(Scope::UserInfo, &query).await;
    assert_refused(&again, "invalid_state", "already completed");
}

#[tokio::test]
async fn browsers_get_an_escaped_html_error_page() {
    let env = TestEnv::start().await;
    let response = env
        .invoke_on(
            &env.gateway,
            "/getOpenId",
            "code=x&state=Unknown0123",
            Some("text/html,application/xhtml+xml,*/*;q=0.8"),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(body_text(&response).contains("start the login again"));
}

#[tokio::test]
async fn a_state_is_consumed_once_across_execution_environments() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "mia", true).await;
    // Eight "execution environments", each with its own clients, race for one state (as
    // when WeChat's browser fires the callback several times at once).
    let mut gateways = Vec::new();
    for _ in 0..8 {
        gateways.push(env.another_gateway().await);
    }
    let results = futures::future::join_all(
        gateways
            .iter()
            .map(|g| env.follow_callback_on(g, &callback)),
    )
    .await;
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 1, "one exchange only");
    let first = location(&results[0]).expect("a redirect");
    assert!(first.contains("openid="), "{first}");
    for result in &results {
        assert_eq!(result.status(), 302);
        assert_eq!(
            location(result).as_deref(),
            Some(first.as_str()),
            "all get the one answer"
        );
    }
}

#[tokio::test]
async fn a_return_url_no_longer_allowed_is_refused_at_the_callback() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://tea.shop.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "wes", true).await;
    // Meanwhile the operator narrowed the allowlist (a new deployment, another
    // environment): the stored URL is checked again before anyone is sent there.
    let mut vars = env.vars().clone();
    vars.insert("ALLOWED_RETURN_ORIGINS", "https://app.example.com".into());
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
