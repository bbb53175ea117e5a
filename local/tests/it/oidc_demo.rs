//! "Log in with OIDC" on the demo page: the built-in relying party runs the code flow with
//! PKCE against the provider over HTTP, verifies the ID token against the JWKS and shows
//! the claims; a response that is not its own login's is refused.

use wxauth_local::{DEMO_WEB_APP_ID, LocalServer};

use crate::support::{follow, get, hidden_fields, start_with};

/// WeChat's in-app browser on a phone.
pub const IN_WECHAT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800322f) NetType/WIFI Language/zh_CN";

/// "Log in with OIDC (with profile)" as `user` up to the relying party's callback: its URL
/// and the relying party's cookie (`name=value`). Outside WeChat (no User-Agent), so by
/// the demo's Website App's QR code.
pub async fn oidc_login(server: &LocalServer, user: &str) -> (String, String) {
    oidc_login_from(server, user, None).await
}

/// The same from a browser naming itself `user_agent`.
pub async fn oidc_login_from(
    server: &LocalServer,
    user: &str,
    user_agent: Option<&str>,
) -> (String, String) {
    let base = &server.base_url;
    let user = ("x-wechat-sim-user", user);

    let start = get(&format!("{base}/demo/oidc/start?profile=1"), &[]).await;
    assert_eq!(start.status, 303);
    let rp_cookie = start
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(rp_cookie.starts_with("wxauth_demo_rp="), "{rp_cookie}");
    let authorize = follow(base, &start.location());
    assert!(
        authorize.contains("/oauth2/authorize?client_id=wxauth-demo&"),
        "{authorize}"
    );
    assert!(authorize.contains("code_challenge_method=S256"));
    assert!(authorize.contains("scope=openid+profile"));

    let agent: Vec<(&str, &str)> = user_agent
        .map(|ua| ("user-agent", ua))
        .into_iter()
        .collect();
    let to_wechat = get(&authorize, &agent).await;
    assert_eq!(to_wechat.status, 302, "{}", to_wechat.body);
    let binding = to_wechat.binding_cookie();
    let at_wechat_url = to_wechat.location();
    // Inside WeChat the Official Account's consent sheet, elsewhere the QR page.
    let (page, confirm) = match user_agent {
        Some(_) => ("/wechat/connect/oauth2/authorize?", "authorize/confirm"),
        None => ("/wechat/connect/qrconnect?", "qrconnect/confirm"),
    };
    assert!(at_wechat_url.contains(page), "{at_wechat_url}");
    let consent = get(&at_wechat_url, &[user]).await;
    assert_eq!(consent.status, 200);
    let mut fields = hidden_fields(&consent.body);
    fields.push(("decision".into(), "allow".into()));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&fields)
        .finish();
    let confirmed = get(
        &follow(&at_wechat_url, &format!("{confirm}?{query}")),
        &[user],
    )
    .await;
    assert_eq!(confirmed.status, 302);
    let back = get(&confirmed.location(), &[("cookie", &binding)]).await;
    assert_eq!(back.status, 302, "{}", back.body);
    let rp_callback = back.location();
    assert!(
        rp_callback.starts_with(&format!("{base}/demo/oidc/callback?code=")),
        "{rp_callback}"
    );
    (rp_callback, rp_cookie)
}

#[tokio::test]
async fn the_demo_relying_party_logs_in_with_pkce_and_a_verified_id_token() {
    let server = start_with(&[]).await.unwrap();
    let sim = server.demo_simulator().unwrap();
    let (rp_callback, rp_cookie) = oidc_login(&server, "Oidc Olga").await;

    // Without the relying party's cookie (another browser): refused, code untouched.
    let elsewhere = get(&rp_callback, &[]).await;
    assert!(
        elsewhere.body.contains("no login in flight"),
        "{}",
        elsewhere.body
    );

    let page = get(&rp_callback, &[("cookie", &rp_cookie)]).await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(body.contains("ID token verified"), "{body}");
    assert!(body.contains("RS256 signature"), "{body}");
    // Logged in by QR code: the Website App's openid.
    let openid = sim.openid_for_app(DEMO_WEB_APP_ID, "Oidc Olga");
    assert!(
        body.contains(&format!("<th>sub</th><td>{openid}</td>")),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "<th>unionid</th><td>{}</td>",
            sim.unionid_for("Oidc Olga")
        )),
        "{body}"
    );
    assert!(body.contains("<th>name</th><td>Oidc Olga</td>"), "{body}");
    // The login in flight is cleared, and the code works once: a reload is refused.
    assert!(
        page.headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("wxauth_demo_rp=;"))
    );
    let reload = get(&rp_callback, &[("cookie", &rp_cookie)]).await;
    assert!(reload.body.contains("invalid_grant"), "{}", reload.body);
}

#[tokio::test]
async fn inside_wechat_the_demo_relying_party_logs_in_with_the_official_account() {
    let server = start_with(&[]).await.unwrap();
    let sim = server.demo_simulator().unwrap();
    let (rp_callback, rp_cookie) = oidc_login_from(&server, "Oidc Olga", Some(IN_WECHAT)).await;
    let page = get(&rp_callback, &[("cookie", &rp_cookie)]).await;
    let body = &page.body;
    assert!(body.contains("ID token verified"), "{body}");
    let openid = sim.openid_for("Oidc Olga");
    assert!(
        body.contains(&format!("<th>sub</th><td>{openid}</td>")),
        "{body}"
    );
    // The same person as by QR code: another openid, the same unionid.
    assert!(
        body.contains(&format!(
            "<th>unionid</th><td>{}</td>",
            sim.unionid_for("Oidc Olga")
        )),
        "{body}"
    );
}

#[tokio::test]
async fn the_demo_relying_party_refuses_a_response_for_another_login() {
    let server = start_with(&[]).await.unwrap();
    let base = &server.base_url;
    let start = get(&format!("{base}/demo/oidc/start"), &[]).await;
    let rp_cookie = start
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let forged = format!(
        "{base}/demo/oidc/callback?code=x&state=not-mine&iss={}",
        form_urlencoded::byte_serialize(base.as_bytes()).collect::<String>()
    );
    let page = get(&forged, &[("cookie", &rp_cookie)]).await;
    assert!(page.body.contains("state does not match"), "{}", page.body);
    assert!(!page.body.contains("<script"));
}
