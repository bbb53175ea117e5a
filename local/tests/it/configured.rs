//! Configured mode: a real Official Account's settings (here pointing at the simulator on
//! its own port), the embedded memory store, and no demo pages.

use wechat_simulator::{SimulatorConfig, WeChatSimulator};
use wxauth_core::SigningKey;
use wxauth_core::login_state::now_epoch_seconds;
use wxauth_core::token::verify;

use crate::support::{self, follow, get, query_params, start_with};

const APP_ID: &str = "wx0123456789abcdef";
const APP_SECRET: &str = "s3cr3t-app-secret-value";
const KEY: &str = "configured-signing-key-0123456789abcdef";

#[tokio::test]
async fn a_login_goes_through_the_configured_wechat() {
    let sim = WeChatSimulator::new(SimulatorConfig::new(APP_ID, APP_SECRET));
    let wechat = sim.serve_on_loopback().await.unwrap();
    let server = start_with(&[
        ("WECHAT_APP_ID", APP_ID),
        ("WECHAT_APP_SECRET", APP_SECRET),
        ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ("TOKEN_SIGNING_KEY", KEY),
        ("WECHAT_OPEN_BASE", &wechat.base_url),
        ("WECHAT_API_BASE", &wechat.base_url),
    ])
    .await
    .unwrap();
    assert_eq!(server.demo_signing_key, None);
    assert!(server.demo_simulator().is_none());
    let banner = server.banner();
    assert!(
        banner.contains(&format!("gateway at {}", server.base_url)),
        "{banner}"
    );
    assert!(banner.contains("configured"), "{banner}");
    assert!(banner.contains("store: in-memory"), "{banner}");
    assert!(
        !banner.contains(KEY) && !banner.contains(APP_SECRET),
        "{banner}"
    );

    let auth = get(
        &format!(
            "{}/auth?url=https%3A%2F%2Fapp.example.com%2Fdone%3Fx%3D1&scope=snsapi_userinfo",
            server.base_url
        ),
        &[],
    )
    .await;
    assert_eq!(auth.status, 302, "{}", auth.body);
    assert_eq!(auth.header("cache-control"), "no-store");
    let authorize = auth.location();
    assert!(
        authorize.starts_with(&format!(
            "{}/connect/oauth2/authorize?appid={APP_ID}&redirect_uri=http%3A%2F%2F127.0.0.1%3A",
            wechat.base_url
        )),
        "{authorize}"
    );

    // Straight to the consent sheet's "allow".
    let confirm = follow(
        &authorize,
        &format!(
            "authorize/confirm?{}&decision=allow",
            authorize
                .split_once('?')
                .unwrap()
                .1
                .trim_end_matches("#wechat_redirect")
        ),
    );
    let at_wechat = get(&confirm, &[("x-wechat-sim-user", "erin")]).await;
    assert_eq!(at_wechat.status, 302, "{}", at_wechat.body);
    let callback = at_wechat.location();
    assert!(
        callback.starts_with(&format!("{}/getWxUserInfo?code=", server.base_url)),
        "{callback}"
    );

    let finished = get(&callback, &[("cookie", &auth.binding_cookie())]).await;
    assert_eq!(finished.status, 302, "{}", finished.body);
    let result = finished.location();
    assert!(
        result.starts_with("https://app.example.com/done?x=1&openid="),
        "{result}"
    );
    let params = query_params(&result);
    assert_eq!(params["openid"], sim.openid_for("erin"));
    assert_eq!(params["nickname"], "erin");
    let claims = verify(
        &params["token"],
        &SigningKey::new(KEY).unwrap(),
        Some("https://app.example.com"),
        now_epoch_seconds(),
    )
    .unwrap();
    assert_eq!(claims.sub, sim.openid_for("erin"));
    assert_eq!(claims.iss, server.base_url);

    // The code was used once; WeChat's callback cannot be replayed.
    let replay = get(&callback, &[]).await;
    assert_eq!(replay.status, 400);
    assert_eq!(replay.json()["error"], "invalid_state");
}

#[tokio::test]
async fn there_are_no_demo_pages_and_no_simulated_wechat() {
    let server = start_with(&[
        ("WECHAT_APP_ID", APP_ID),
        ("WECHAT_APP_SECRET", APP_SECRET),
        ("ALLOWED_RETURN_ORIGINS", "http://127.0.0.1:1"),
        ("TOKEN_SIGNING_KEY", KEY),
        ("MP_VERIFY_TOKEN", "AbC123"),
    ])
    .await
    .unwrap();
    for path in [
        "/",
        "/demo/user?name=x",
        "/demo/result?openid=o",
        "/wechat/connect/oauth2/authorize",
        "/wechat/sns/userinfo",
    ] {
        let page = get(&format!("{}{path}", server.base_url), &[]).await;
        assert_eq!(page.status, 404, "{path}");
        assert_eq!(page.json()["error"], "not_found", "{path}");
        assert!(page.headers.get("set-cookie").is_none(), "{path}");
    }
    // A browser gets the core's HTML error page.
    let page = get(&format!("{}/", server.base_url), &[("accept", "text/html")]).await;
    assert_eq!(page.status, 404);
    assert!(page.header("content-type").starts_with("text/html"));
    // The other core routes are there.
    let verify = get(&format!("{}/MP_verify_AbC123.txt", server.base_url), &[]).await;
    assert_eq!((verify.status, verify.body.as_str()), (200, "AbC123"));
}

/// Browsers ask every site for `/favicon.ico` on their own: it is there in both modes
/// (a 404 would be a failed request in the console), and cached for long.
#[tokio::test]
async fn the_favicon_is_served_in_both_modes() {
    let configured = start_with(&[
        ("WECHAT_APP_ID", APP_ID),
        ("WECHAT_APP_SECRET", APP_SECRET),
        ("ALLOWED_RETURN_ORIGINS", "http://127.0.0.1:1"),
        ("TOKEN_SIGNING_KEY", KEY),
    ])
    .await
    .unwrap();
    let demo = start_with(&[]).await.unwrap();
    for server in [&configured, &demo] {
        let icon = support::client()
            .get(format!("{}/favicon.ico", server.base_url))
            .header("accept", "image/avif,image/webp,image/*,*/*;q=0.8")
            .send()
            .await
            .unwrap();
        assert_eq!(icon.status(), 200);
        let header = |name: &str| icon.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), "image/x-icon");
        assert_eq!(header("cache-control"), "public, max-age=31536000");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert!(icon.headers().get("set-cookie").is_none());
        let body = icon.bytes().await.unwrap();
        assert_eq!(&body[..4], &[0, 0, 1, 0], "an ICO file");
    }
}

#[tokio::test]
async fn wechat_apps_alone_configure_the_server_and_a_qr_login_goes_through_the_website_app() {
    const WEB_ID: &str = "wx00000000000000bb";
    const WEB_SECRET: &str = "s3cr3t-web-app-secret";
    let sim = WeChatSimulator::new(
        SimulatorConfig::new(APP_ID, APP_SECRET)
            .with_app(wechat_simulator::SimApp::website(WEB_ID, WEB_SECRET).bound()),
    );
    let wechat = sim.serve_on_loopback().await.unwrap();
    let apps = serde_json::json!([
        {"name": "mp", "kind": "official_account", "app_id": APP_ID, "app_secret": APP_SECRET,
         "qr_app": "web"},
        {"name": "web", "kind": "website", "app_id": WEB_ID, "app_secret": WEB_SECRET},
    ])
    .to_string();
    let server = start_with(&[
        ("WECHAT_APPS", &apps),
        ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
        ("TOKEN_SIGNING_KEY", KEY),
        ("WECHAT_OPEN_BASE", &wechat.base_url),
        ("WECHAT_API_BASE", &wechat.base_url),
    ])
    .await
    .unwrap();
    // Configured, not the demo, and the banner names the apps (never their secrets).
    assert!(server.demo_simulator().is_none());
    let banner = server.banner();
    assert!(
        banner.contains(&format!(
            "WeChat apps mp (official_account {APP_ID}), web (website {WEB_ID})"
        )),
        "{banner}"
    );
    assert!(!banner.contains(WEB_SECRET) && !banner.contains(APP_SECRET));

    // A desktop browser (no MicroMessenger) with scope=auto: the QR page.
    let auth = get(
        &format!(
            "{}/auth?url=https%3A%2F%2Fapp.example.com%2Fdone&scope=auto",
            server.base_url
        ),
        &[(
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
        )],
    )
    .await;
    assert_eq!(auth.status, 302, "{}", auth.body);
    let authorize = auth.location();
    assert!(
        authorize.starts_with(&format!(
            "{}/connect/qrconnect?appid={WEB_ID}&",
            wechat.base_url
        )),
        "{authorize}"
    );
    let scanned = get(
        &wechat_simulator::qr_scan_url(&authorize, true),
        &[("x-wechat-sim-user", "erin")],
    )
    .await;
    assert_eq!(scanned.status, 302, "{}", scanned.body);
    let callback = scanned.location();
    assert!(
        callback.starts_with(&format!("{}/getQrUserInfo?code=", server.base_url)),
        "{callback}"
    );
    let finished = get(&callback, &[("cookie", &auth.binding_cookie())]).await;
    assert_eq!(finished.status, 302, "{}", finished.body);
    let params = query_params(&finished.location());
    assert_eq!(params["openid"], sim.openid_for_app(WEB_ID, "erin"));
    assert_eq!(params["unionid"], sim.unionid_for("erin"));
    let claims = verify(
        &params["token"],
        &SigningKey::new(KEY).unwrap(),
        Some("https://app.example.com"),
        now_epoch_seconds(),
    )
    .unwrap();
    assert_eq!(claims.appid, WEB_ID);
}
