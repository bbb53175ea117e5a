use std::time::Duration;

use reqwest::StatusCode;
use wechat_simulator::{Endpoint, Scope, SimUser};

use crate::support::*;

fn keys(json: &serde_json::Value) -> Vec<&str> {
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn base_exchange_returns_exactly_the_documented_fields_as_text_plain() {
    let (sim, running) = start(config()).await;
    let client = client();
    let code = base_login(&client, &running.base_url, "alice").await;
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
        keys(&json),
        [
            "access_token",
            "expires_in",
            "openid",
            "refresh_token",
            "scope"
        ]
    );
    assert_eq!(json["expires_in"], 7200);
    assert_eq!(json["scope"], "snsapi_base");
    assert_eq!(json["openid"], sim.openid_for("alice"));
    let openid = json["openid"].as_str().unwrap();
    assert_eq!(openid.len(), 28);
    assert!(openid.starts_with('o'));
    assert_ne!(json["access_token"], json["refresh_token"]);
}

#[tokio::test]
async fn unionid_only_for_userinfo_scope_on_a_bound_account() {
    let mut bound = config();
    bound.bound_to_open_platform = true;
    let (sim, running) = start(bound).await;
    let client = client();
    let json = exchange(
        &client,
        &running.base_url,
        &sim.issue_code("gina", Scope::UserInfo),
    )
    .await;
    assert_eq!(json["scope"], "snsapi_userinfo");
    assert_eq!(json["unionid"], sim.unionid_for("gina"));
    let json = exchange(
        &client,
        &running.base_url,
        &sim.issue_code("gina", Scope::Base),
    )
    .await;
    assert!(json.get("unionid").is_none(), "{json}");

    let (sim, running) = start(config()).await;
    let json = exchange(
        &client,
        &running.base_url,
        &sim.issue_code("gina", Scope::UserInfo),
    )
    .await;
    assert!(json.get("unionid").is_none(), "{json}");
    assert!(json.get("is_snapshotuser").is_none(), "{json}");
}

#[tokio::test]
async fn is_snapshotuser_only_for_snapshot_visitors() {
    let (sim, running) = start(config()).await;
    let client = client();
    sim.put_user(SimUser {
        snapshot: true,
        ..SimUser::named("ghost")
    });
    let json = exchange(
        &client,
        &running.base_url,
        &sim.issue_code("ghost", Scope::Base),
    )
    .await;
    assert_eq!(json["is_snapshotuser"], 1);
    let json = exchange(
        &client,
        &running.base_url,
        &sim.issue_code("hank", Scope::Base),
    )
    .await;
    assert!(json.get("is_snapshotuser").is_none(), "{json}");
}

#[tokio::test]
async fn openids_are_per_app_unionids_are_not() {
    let (sim_a, _ra) = start(config()).await;
    let (sim_b, _rb) = start(wechat_simulator::SimulatorConfig::new("wxother", "s")).await;
    assert_ne!(sim_a.openid_for("ivy"), sim_b.openid_for("ivy"));
    assert_eq!(sim_a.unionid_for("ivy"), sim_b.unionid_for("ivy"));
    assert_ne!(sim_a.openid_for("ivy"), sim_a.openid_for("jack"));
}

#[tokio::test]
async fn a_code_works_once_then_reports_40163() {
    let (sim, running) = start(config()).await;
    let client = client();
    let code = sim.issue_code("alice", Scope::Base);
    assert!(
        exchange(&client, &running.base_url, &code)
            .await
            .get("openid")
            .is_some()
    );
    let again = exchange(&client, &running.base_url, &code).await;
    assert_error(&again, 40163, "code been used");
}

#[tokio::test]
async fn a_code_expires_after_code_ttl() {
    let mut config = config();
    config.code_ttl = Duration::from_millis(200);
    let (sim, running) = start(config).await;
    let client = client();
    let fresh = sim.issue_code("alice", Scope::Base);
    let stale = sim.issue_code("alice", Scope::Base);
    assert!(
        exchange(&client, &running.base_url, &fresh)
            .await
            .get("openid")
            .is_some()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_error(
        &exchange(&client, &running.base_url, &stale).await,
        42003,
        "code expired",
    );
}

/// Query pairs, expected errcode, expected errmsg prefix.
type Case<'a> = (Vec<(&'a str, &'a str)>, i64, &'a str);

#[tokio::test]
async fn parameters_are_checked_in_wechats_order() {
    let (sim, running) = start(config()).await;
    let client = client();
    let base = &running.base_url;
    let code = sim.issue_code("alice", Scope::Base);
    let grant = ("grant_type", "authorization_code");
    let cases: Vec<Case> = vec![
        (
            vec![("secret", SECRET), ("code", &code), grant],
            41002,
            "appid missing",
        ),
        (
            vec![("appid", "wxnope"), ("code", &code), grant],
            40013,
            "invalid appid",
        ),
        (
            vec![
                ("appid", "wxnope"),
                ("secret", "nope"),
                ("code", &code),
                grant,
            ],
            40013,
            "invalid appid",
        ),
        (
            vec![("appid", APP_ID), ("code", &code), grant],
            41004,
            "appsecret missing",
        ),
        (
            vec![
                ("appid", APP_ID),
                ("secret", "nope"),
                ("code", &code),
                grant,
            ],
            40125,
            "invalid appsecret",
        ),
        (
            vec![("appid", APP_ID), ("secret", SECRET), ("code", ""), grant],
            41008,
            "missing code",
        ),
        (
            vec![("appid", APP_ID), ("secret", SECRET), ("code", &code)],
            40002,
            "invalid grant_type",
        ),
        (
            vec![
                ("appid", APP_ID),
                ("secret", SECRET),
                ("code", &code),
                ("grant_type", "client_credential"),
            ],
            40002,
            "invalid grant_type",
        ),
        (
            vec![("appid", APP_ID), ("secret", SECRET), ("code", "0"), grant],
            40029,
            "invalid code",
        ),
    ];
    for (pairs, code, msg) in cases {
        let (status, content_type, json) = exchange_raw(&client, base, &pairs).await;
        assert_eq!(status, StatusCode::OK, "errors are HTTP 200");
        assert_eq!(content_type, "text/plain");
        assert_error(&json, code, msg);
    }
    // None of the failures consumed the code.
    assert!(exchange(&client, base, &code).await.get("openid").is_some());
    assert_eq!(sim.calls(Endpoint::AccessToken), 10);
}
