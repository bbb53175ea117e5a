//! WeChat's in-app browser sometimes loads the callback twice: the repeat gets the first
//! answer, without a second call to WeChat, for a short window, and only for the same
//! state, code and browser.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use wechat_simulator::{Endpoint, Fault};
use wxauth_core::Scope;
use wxauth_core::login_state::now_epoch_seconds;
use wxauth_tests::*;

#[tokio::test]
async fn a_repeated_callback_gets_the_same_answer_without_asking_wechat_again() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/me", Scope::UserInfo, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "sam", true).await;
    let first = env.follow_callback(&callback).await;
    let second = env.follow_callback(&callback).await;
    assert_eq!(first.status(), 302);
    assert_eq!(second.status(), 302);
    assert_eq!(location(&first), location(&second));
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 1);
    assert_eq!(env.sim.calls(Endpoint::UserInfo), 1);
    let params = result_params(&location(&second).unwrap(), false);
    assert_eq!(params["openid"], env.sim.openid_for("sam"));
}

#[tokio::test]
async fn a_repeat_while_the_first_is_still_at_wechat_waits_for_its_answer() {
    let env = TestEnv::start().await;
    env.sim.inject(
        Endpoint::AccessToken,
        Fault::Delay(Duration::from_millis(800)),
        1,
    );
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "tia", true).await;
    let (first, second) = tokio::join!(env.follow_callback(&callback), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        env.follow_callback(&callback).await
    });
    assert_eq!(first.status(), 302);
    assert_eq!(second.status(), 302, "{}", body_text(&second));
    assert_eq!(location(&first), location(&second));
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 1);
}

#[tokio::test]
async fn failures_and_refusals_are_repeated_too() {
    let env = TestEnv::start().await;
    env.sim.inject(
        Endpoint::AccessToken,
        Fault::Errcode(45011, "api minute-quota reach limit".into()),
        1,
    );
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "uma", true).await;
    let first = location(&env.follow_callback(&callback).await).unwrap();
    let second = location(&env.follow_callback(&callback).await).unwrap();
    assert_eq!(first, second);
    assert!(first.contains("error=temporarily_unavailable"));
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 1);

    let authorize = env
        .start_login("https://app.example.com/", Scope::UserInfo, None)
        .await;
    let refusal = env.wechat_authorize(&authorize, "uma", false).await;
    let first = location(&env.follow_callback(&refusal).await).unwrap();
    let second = location(&env.follow_callback(&refusal).await).unwrap();
    assert_eq!(first, second);
    assert!(first.contains("error=access_denied"));
}

#[tokio::test]
async fn a_repeat_from_another_browser_or_after_the_window_is_refused() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::Base, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "vic", true).await;
    assert_eq!(env.follow_callback(&callback).await.status(), 302);

    // Someone who got hold of the callback URL, without the browser's cookie.
    let query = query_of(&callback);
    let stranger = env
        .invoke_with_cookies(&env.gateway, "/getOpenId", &query, None, vec![])
        .await;
    assert_refused(&stranger, "invalid_state", "already completed");
    assert!(!body_text(&stranger).contains("openid"));

    // The window has passed (the item may still be there: TTL deletion lags).
    env.dynamo
        .update_item()
        .table_name(&env.table)
        .key("state", AttributeValue::S(state_of(&authorize)))
        .update_expression("SET consumed_at = :t")
        .expression_attribute_values(
            ":t",
            AttributeValue::N((now_epoch_seconds() - 61).to_string()),
        )
        .send()
        .await
        .unwrap();
    let late = env.follow_callback(&callback).await;
    assert_refused(&late, "invalid_state", "already completed");
    assert_eq!(env.sim.calls(Endpoint::AccessToken), 1);
}

#[tokio::test]
async fn the_kept_outcome_is_sealed_and_short_lived() {
    let env = TestEnv::start().await;
    let authorize = env
        .start_login("https://app.example.com/", Scope::UserInfo, None)
        .await;
    let callback = env.wechat_authorize(&authorize, "wes", true).await;
    let landing = location(&env.follow_callback(&callback).await).unwrap();
    let params = result_params(&landing, false);
    let item = env
        .dynamo
        .get_item()
        .table_name(&env.table)
        .key("state", AttributeValue::S(state_of(&authorize)))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("the consumed login is kept for the window");
    let dump = format!("{item:?}");
    assert!(
        !dump.contains(&params["openid"]),
        "openid readable at rest: {dump}"
    );
    assert!(!dump.contains(&params["token"]), "token readable at rest");
    let expires_at: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    assert!(
        expires_at <= now_epoch_seconds() + 60,
        "TTL cut to the window"
    );
}
