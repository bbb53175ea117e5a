//! An HTTP API event as API Gateway sends it, not as our own helpers build it: the
//! payload format 2.0 structure AWS documents (lower-case header names, duplicate headers
//! and query values joined with commas, cookies moved into `cookies`, `domainPrefix`,
//! `timeEpoch`, …) read from a JSON fixture, through the real adapter.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use wxauth_tests::*;

const FIXTURE: &str = include_str!("../fixtures/apigw-http-api-v2-auth.json");

#[tokio::test]
async fn a_documented_payload_2_event_starts_a_login() {
    let event: ApiGatewayV2httpRequest =
        serde_json::from_str(FIXTURE).expect("the documented event deserialises");
    assert_eq!(event.request_context.domain_name.as_deref(), Some(DOMAIN));
    let env = TestEnv::start().await;
    let response =
        wxauth_lambda::handle(&env.gateway, &wxauth_lambda::functions::AUTH, event).await;
    assert_eq!(response.status_code, 302, "{:?}", response.body);
    let authorize = response.headers["location"].to_str().unwrap();
    // The callback is derived from the request context, not the client's Host header.
    let redirect = url::Url::parse(authorize)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert_eq!(redirect, format!("https://{DOMAIN}/getOpenId"));
    // The raw query string is what counts: the unknown, repeated `utm` is ignored, and the
    // return URL is stored exactly as sent.
    assert!(authorize.ends_with("#wechat_redirect"), "{authorize}");
    assert_eq!(response.cookies.len(), 1, "the binding cookie");
    assert!(response.cookies[0].starts_with("__Host-wxauth_"));
    let state = state_of(authorize);
    let code = env.sim.issue_code("ann", wechat_simulator::Scope::Base);
    let cookie = cookie_pair(&response.cookies[0]);
    let callback = env
        .invoke_with_cookies(
            &env.gateway,
            "/getOpenId",
            &encode(&[("code", &code), ("state", &state)]),
            None,
            vec![cookie],
        )
        .await;
    let landing = location(&callback).unwrap();
    assert!(
        landing.starts_with("https://app.example.com/me?from=menu&openid="),
        "{landing}"
    );
}
