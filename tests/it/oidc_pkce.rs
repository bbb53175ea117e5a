//! Who must use PKCE at the OpenID Provider: every client unless a confidential one is
//! registered with `"require_pkce": false`. Whatever the setting, a code issued with a
//! challenge needs its verifier, and one issued without refuses a verifier (RFC 9700
//! §2.1.1), each time without spending the code.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use wxauth_core::Scope;
use wxauth_core::login_state::now_epoch_seconds;
use wxauth_core::oidc::grant::{CODE_LIFETIME_SECONDS, Grant, GrantId};
use wxauth_tests::*;

use crate::oidc::{
    RP_REDIRECT, RP_SECRET, VERIFIER, authorization_response, authorize, basic, provider,
    provider_with, rp_request,
};

/// The confidential client `rp`'s authorization request without any PKCE parameter.
fn without_pkce() -> Vec<(&'static str, &'static str)> {
    rp_request(&[("code_challenge", ""), ("code_challenge_method", "")])
}

/// `rp` redeems `code` by Basic, with `verifier` or none.
async fn redeem(env: &TestEnv, code: &str, verifier: Option<&str>) -> ApiGatewayV2httpResponse {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", RP_REDIRECT),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier));
    }
    let auth = basic("rp", RP_SECRET);
    env.token_request(&form, &[("authorization", &auth)]).await
}

/// A refused redemption: `invalid_grant`, with `why` in the description.
fn assert_invalid_grant(response: &ApiGatewayV2httpResponse, why: &str) {
    assert_eq!(response.status(), 400, "{}", body_text(response));
    let body = json_body(response);
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(
        body["error_description"].as_str().unwrap().contains(why),
        "{body}"
    );
}

#[tokio::test]
async fn a_confidential_client_without_pkce_is_refused_by_default() {
    let env = provider().await;
    let response = authorize(&env, &without_pkce()).await;
    assert_eq!(response.status(), 302, "{}", body_text(&response));
    let location = location(&response).unwrap();
    assert!(location.starts_with(RP_REDIRECT), "{location}");
    let refused = result_params(&location, false);
    assert_eq!(refused["error"], "invalid_request");
    assert!(refused["error_description"].contains("PKCE"), "{refused:?}");
    assert_eq!(refused["state"], "rp-state-1");
    assert_eq!(refused["iss"], env.issuer());
    assert!(!refused.contains_key("code"));
}

/// A code issued without a challenge, as the auth function issued it before `require_pkce`
/// was turned on, is no way around PKCE at the token endpoint.
#[tokio::test]
async fn a_code_issued_without_a_challenge_is_refused_to_a_client_that_requires_pkce() {
    let env = provider().await;
    let now = now_epoch_seconds();
    let (code, id) = GrantId::generate();
    let grant = Grant {
        client_id: "rp".into(),
        redirect_uri: RP_REDIRECT.into(),
        code_challenge: None,
        nonce: None,
        scope: Scope::Base,
        auth_time: now,
        sub: "oSUB".into(),
        openid: "oSUB".into(),
        unionid: None,
        unionid_scope: false,
        name: None,
        picture: None,
        claims: Default::default(),
        code_expires_at: now + CODE_LIFETIME_SECONDS,
    };
    env.gateway.store().put_grant(&id, &grant).await.unwrap();
    assert_invalid_grant(&redeem(&env, &code, None).await, "code_verifier is missing");
    assert_invalid_grant(
        &redeem(&env, &code, Some(VERIFIER)).await,
        "without code_challenge",
    );
    let kept = env.gateway.store().find_grant(&id, now).await.unwrap();
    assert!(kept.is_some_and(|g| !g.redeemed && !g.revoked));
}

#[tokio::test]
async fn a_confidential_client_registered_without_pkce_may_omit_it_but_not_downgrade() {
    let env = provider_with(|s| {
        let clients = serde_json::json!([{
            "client_id": "rp", "client_secret": RP_SECRET,
            "redirect_uris": [RP_REDIRECT], "require_pkce": false,
        }]);
        s.vars.insert("OIDC_CLIENTS", clients.to_string());
    })
    .await;
    // Without PKCE: a code, which a verifier cannot redeem (it was bound to none) and
    // which stays redeemable without one.
    let answer = authorization_response(&env, "judy", &without_pkce(), true).await;
    let code = answer["code"].as_str();
    assert_invalid_grant(
        &redeem(&env, code, Some(VERIFIER)).await,
        "without code_challenge",
    );
    let response = redeem(&env, code, None).await;
    assert_eq!(response.status(), 200, "{}", body_text(&response));
    // With PKCE all the same: the challenge binds the code to its verifier.
    let answer = authorization_response(&env, "judy", &rp_request(&[]), true).await;
    let code = answer["code"].as_str();
    assert_invalid_grant(&redeem(&env, code, None).await, "code_verifier is missing");
    let response = redeem(&env, code, Some(VERIFIER)).await;
    assert_eq!(response.status(), 200, "{}", body_text(&response));
}
