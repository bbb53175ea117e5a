//! The OpenID Connect code flow through the function binaries: discovery, authorize,
//! the token endpoint (both client authentications, PKCE), the ID token checked against
//! the JWKS, userinfo, CORS preflights and a replayed code.

use wxauth_tests::{encode, result_params};

use super::{
    Browser, CLIENT_ID, CLIENT_SECRET, PKCE_CHALLENGE, PKCE_VERIFIER, REDIRECT_URI, Stack,
};

/// A response's JSON body.
async fn json(response: reqwest::Response) -> serde_json::Value {
    let text = response.text().await.expect("a body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// What a relying party's backend gets from the token endpoint.
pub(super) struct Tokens {
    pub(super) access_token: String,
    id_claims: serde_json::Value,
}

impl Stack {
    /// The relying party's whole code flow for `user`: discovery, the authorization
    /// request (PKCE, state, nonce) through the auth function, WeChat, the callback's
    /// redirect with the code, the code redeemed at the token endpoint with
    /// `client_secret_post` (or Basic), and the ID token verified with the published
    /// JWKS. Returns the tokens and the code (for a replay).
    pub(super) async fn oidc_login(
        &self,
        browser: &Browser,
        user: &str,
        scope: &str,
        basic: bool,
    ) -> (Tokens, String) {
        let issuer = self.api.public_base_url();
        let client = wxauth_tests::browser();
        // What the relying party reads first: discovery, served by oidc-userinfo.
        let response = client
            .get(format!(
                "{}/.well-known/openid-configuration",
                self.api.base_url()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let discovery = json(response).await;
        assert_eq!(discovery["issuer"], issuer.as_str());
        for (field, path) in [
            ("authorization_endpoint", "/oauth2/authorize"),
            ("token_endpoint", "/oauth2/token"),
            ("userinfo_endpoint", "/oauth2/userinfo"),
            ("jwks_uri", "/.well-known/jwks.json"),
        ] {
            assert_eq!(discovery[field], format!("{issuer}{path}"), "{field}");
        }
        let local = |public: &serde_json::Value| {
            self.api
                .local_url(public.as_str().unwrap())
                .expect("an endpoint of this API")
        };

        let state = format!("rp-state-{user}");
        let nonce = format!("rp-nonce-{user}");
        let authorize = format!(
            "{}?{}",
            local(&discovery["authorization_endpoint"]),
            encode(&[
                ("client_id", CLIENT_ID),
                ("redirect_uri", REDIRECT_URI),
                ("response_type", "code"),
                ("scope", scope),
                ("state", &state),
                ("nonce", &nonce),
                ("code_challenge", PKCE_CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
        );
        let callback_path = if scope.split(' ').any(|s| s == "profile") {
            "/getWxUserInfo"
        } else {
            "/getOpenId"
        };
        let (landed, _) = self
            .through_wechat(browser, &authorize, user, callback_path)
            .await;
        assert!(landed.starts_with(&format!("{REDIRECT_URI}?")), "{landed}");
        let params = result_params(&landed, false);
        assert_eq!(params["state"], state);
        assert_eq!(params["iss"], issuer);
        let code = params["code"].clone();

        // The relying party's backend redeems the code (oidc-token).
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", PKCE_VERIFIER),
        ];
        if !basic {
            form.extend([("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]);
        }
        let mut request = client
            .post(local(&discovery["token_endpoint"]))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(&form));
        if basic {
            request = request.basic_auth(CLIENT_ID, Some(CLIENT_SECRET));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body = json(response).await;
        assert_eq!(body["token_type"], "Bearer", "{body}");

        // The ID token, verified with the JWKS (oidc-userinfo) by an independent library.
        let response = client
            .get(local(&discovery["jwks_uri"]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(json(response).await).unwrap();
        let id_token = body["id_token"].as_str().unwrap();
        let header = jsonwebtoken::decode_header(id_token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
        let jwk = jwks
            .find(header.kid.as_deref().expect("a kid"))
            .expect("the ID token's key is published");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[CLIENT_ID]);
        validation.set_issuer(&[issuer.as_str()]);
        let id_claims = jsonwebtoken::decode::<serde_json::Value>(
            id_token,
            &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
            &validation,
        )
        .expect("a valid ID token")
        .claims;
        assert_eq!(id_claims["nonce"], nonce.as_str());
        assert_eq!(id_claims["sub"], self.sim.openid_for(user).as_str());
        let tokens = Tokens {
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            id_claims,
        };
        (tokens, code)
    }

    /// userinfo (oidc-userinfo) with `access_token`, by GET or POST.
    pub(super) async fn userinfo(&self, access_token: &str, post: bool) -> reqwest::Response {
        let url = format!("{}/oauth2/userinfo", self.api.base_url());
        let client = wxauth_tests::browser();
        let request = if post {
            client.post(url)
        } else {
            client.get(url)
        };
        request
            .bearer_auth(access_token)
            .send()
            .await
            .expect("the API answers")
    }

    /// The token endpoint, redeeming `code` (again) with the client's secret in the body.
    async fn redeem(&self, code: &str) -> reqwest::Response {
        wxauth_tests::browser()
            .post(format!("{}/oauth2/token", self.api.base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", PKCE_VERIFIER),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ]))
            .send()
            .await
            .expect("the API answers")
    }
}

/// The OpenID Connect flows through the five binaries: a base login (base-callback
/// stores the grant) redeemed with `client_secret_post`, a profile login (userinfo-callback)
/// redeemed with Basic, userinfo by GET and POST, CORS preflights, and a replayed code
/// that revokes the tokens issued from it.
pub(super) async fn openid_connect_flows(stack: &Stack, browser: &Browser) {
    let (tokens, code) = stack.oidc_login(browser, "erin", "openid", false).await;
    let openid = stack.sim.openid_for("erin");
    assert_eq!(tokens.id_claims["openid"], openid.as_str());
    assert!(tokens.id_claims.get("name").is_none());
    for post in [false, true] {
        let response = stack.userinfo(&tokens.access_token, post).await;
        assert_eq!(response.status(), 200);
        let claims = json(response).await;
        assert_eq!(claims["sub"], openid.as_str());
        assert_eq!(claims["openid"], openid.as_str());
    }

    let (profile, _) = stack
        .oidc_login(browser, "frank", "openid profile", true)
        .await;
    let response = stack.userinfo(&profile.access_token, false).await;
    assert_eq!(response.status(), 200);
    let claims = json(response).await;
    assert_eq!(claims["sub"], stack.sim.openid_for("frank").as_str());
    assert!(claims["name"].is_string(), "{claims}");
    assert_eq!(claims["name"], profile.id_claims["name"]);

    // A browser-based relying party's preflights, answered by the functions themselves.
    for path in ["/oauth2/token", "/oauth2/userinfo"] {
        let response = wxauth_tests::browser()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}{path}", stack.api.base_url()),
            )
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert!(
            response
                .headers()
                .contains_key("access-control-allow-methods"),
            "{path}"
        );
    }

    // The code again: refused, and the grant it came from is revoked, so its access
    // token stops working at userinfo.
    let response = stack.redeem(&code).await;
    assert_eq!(response.status(), 400);
    let body = json(response).await;
    assert_eq!(body["error"], "invalid_grant");
    let response = stack.userinfo(&tokens.access_token, false).await;
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // The other login's tokens are untouched.
    assert_eq!(
        stack.userinfo(&profile.access_token, true).await.status(),
        200
    );
}
