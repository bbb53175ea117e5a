use std::time::Duration;

use wechat_simulator::{Endpoint, Scope, SimUser};

use crate::support::*;

fn kim() -> SimUser {
    SimUser {
        nickname: "金 Kim".into(),
        sex: 2,
        province: "广东".into(),
        city: "深圳".into(),
        country: "中国".into(),
        headimgurl: "https://thirdwx.qlogo.cn/mmopen/vi_32/kim/132".into(),
        ..SimUser::named("kim")
    }
}

#[tokio::test]
async fn a_userinfo_token_reads_the_profile() {
    let (sim, running) = start(config()).await;
    let client = client();
    sim.put_user(kim());
    let (token, openid) = token_for(&sim, &client, &running.base_url, "kim", Scope::UserInfo).await;
    let json = userinfo(&client, &running.base_url, &token, &openid).await;
    assert_eq!(
        json,
        serde_json::json!({
            "openid": sim.openid_for("kim"),
            "nickname": "金 Kim",
            "sex": 2,
            "province": "广东",
            "city": "深圳",
            "country": "中国",
            "headimgurl": "https://thirdwx.qlogo.cn/mmopen/vi_32/kim/132",
            "privilege": [],
        })
    );
    assert_eq!(sim.calls(Endpoint::UserInfo), 1);
}

#[tokio::test]
async fn unknown_users_get_a_default_profile_and_bound_accounts_add_unionid() {
    let mut bound = config();
    bound.bound_to_open_platform = true;
    let (sim, running) = start(bound).await;
    let client = client();
    let (token, openid) = token_for(&sim, &client, &running.base_url, "lee", Scope::UserInfo).await;
    let json = userinfo(&client, &running.base_url, &token, &openid).await;
    assert_eq!(json["nickname"], "lee");
    assert_eq!(json["sex"], 0);
    assert_eq!(json["headimgurl"], "");
    assert_eq!(json["unionid"], sim.unionid_for("lee"));
}

#[tokio::test]
async fn sex_can_arrive_as_a_string() {
    let (sim, running) = start(config()).await;
    let client = client();
    sim.put_user(SimUser {
        sex: 1,
        sex_as_string: true,
        ..SimUser::named("max")
    });
    let (token, openid) = token_for(&sim, &client, &running.base_url, "max", Scope::UserInfo).await;
    let json = userinfo(&client, &running.base_url, &token, &openid).await;
    assert_eq!(json["sex"], serde_json::json!("1"));
}

#[tokio::test]
async fn a_base_token_is_unauthorized_for_userinfo() {
    let (sim, running) = start(config()).await;
    let client = client();
    let (token, openid) = token_for(&sim, &client, &running.base_url, "ned", Scope::Base).await;
    let json = userinfo(&client, &running.base_url, &token, &openid).await;
    assert_error(&json, 48001, "api unauthorized");
}

#[tokio::test]
async fn bad_tokens_and_openids_are_rejected() {
    let (sim, running) = start(config()).await;
    let client = client();
    let base = &running.base_url;
    let (token, openid) = token_for(&sim, &client, base, "olga", Scope::UserInfo).await;
    assert_error(
        &userinfo(&client, base, "not-a-token", &openid).await,
        40001,
        "invalid credential, access_token is invalid or not latest",
    );
    assert_error(
        &userinfo(&client, base, &token, &sim.openid_for("someone-else")).await,
        40003,
        "invalid openid",
    );
    assert_error(
        &userinfo(&client, base, "", &openid).await,
        41001,
        "access_token missing",
    );
    assert_error(
        &userinfo(&client, base, &token, "").await,
        41009,
        "missing openid",
    );
}

#[tokio::test]
async fn access_tokens_expire_after_their_ttl() {
    let mut config = config();
    config.access_token_ttl = Duration::from_millis(200);
    let (sim, running) = start(config).await;
    let client = client();
    let (token, openid) = token_for(&sim, &client, &running.base_url, "pam", Scope::UserInfo).await;
    assert!(
        userinfo(&client, &running.base_url, &token, &openid)
            .await
            .get("nickname")
            .is_some()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_error(
        &userinfo(&client, &running.base_url, &token, &openid).await,
        42001,
        "access_token expired",
    );
}
