//! Result tokens signed with keys of their own (TOKEN_SIGNING_ALG=ES256) through the
//! function binaries: the callback signs with RESULT_SIGNING_KEYS, the userinfo function
//! publishes RESULT_JWKS at its own address without holding a private key, and the ID
//! tokens' JWKS never lists the result tokens' keys.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use wxauth_core::oidc::keys::SigningKeys;
use wxauth_tests::{DOMAIN, exclusive, result_params};

use super::{Browser, Stack};

async fn jwk_set(stack: &Stack, path: &str) -> JwkSet {
    let response = wxauth_tests::browser()
        .get(format!("{}{path}", stack.api.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    serde_json::from_str(&response.text().await.unwrap()).expect("a JWK set")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_tokens_verify_with_their_own_published_keys_only() {
    let _exclusive = exclusive().await;
    let pem = SigningKeys::generate_pem();
    let jwks = wxauth_local::public_jwks(&pem).unwrap();
    let stack = Stack::deploy("prod", |env| {
        env.insert("TOKEN_SIGNING_ALG".into(), "ES256".into());
        env.insert("RESULT_SIGNING_KEYS".into(), pem.clone());
        env.insert("RESULT_JWKS".into(), jwks.clone());
    })
    .await;
    let landed = stack
        .login(
            &Browser::new(),
            "olga",
            "snsapi_base",
            "https://app.example.com/",
        )
        .await;
    let token = result_params(&landed, false)["token"].clone();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.typ.as_deref(), Some("wxauth-result+jwt"));
    let kid = header.kid.expect("a kid");

    let result_keys = jwk_set(&stack, "/.well-known/result-jwks.json").await;
    let id_keys = jwk_set(&stack, "/.well-known/jwks.json").await;
    assert!(
        id_keys.find(&kid).is_none(),
        "an ID-token verifier never trusts it"
    );
    let jwk = result_keys.find(&kid).expect("its key is published");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_issuer(&[format!("https://{DOMAIN}/prod")]);
    validation.set_audience(&["https://app.example.com"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .expect("the result token verifies with the result JWKS")
    .claims;
    assert_eq!(claims["sub"], stack.sim.openid_for("olga").as_str());
    // What the userinfo function publishes is exactly the public set it was given.
    let given: serde_json::Value = serde_json::from_str(&jwks).unwrap();
    let published = serde_json::to_value(&result_keys).unwrap();
    assert_eq!(
        published["keys"].as_array().unwrap().len(),
        given["keys"].as_array().unwrap().len()
    );
    let logs = stack.logs();
    assert!(
        !logs.contains("PRIVATE KEY"),
        "a private key reached the logs"
    );
}
