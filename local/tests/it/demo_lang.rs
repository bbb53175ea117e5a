//! The demo's pages in the visitor's language: Simplified Chinese when `Accept-Language`
//! prefers it (WeChat sends `zh-CN`), English otherwise, with `<html lang>` to match. The
//! structure the other tests and the browser tests rely on stays the same in both.

use wxauth_core::SigningKey;
use wxauth_core::login_state::now_epoch_seconds;
use wxauth_local::LocalServer;

use crate::oidc_demo::oidc_login;
use crate::support::{Page, get, hrefs, start_with};

/// WeChat's in-app browser on iOS.
const ZH: &str = "zh-CN,zh-Hans;q=0.9";
/// Headers that must give English: none, English first, or no language we have.
const NOT_ZH: [Option<&str>; 3] = [None, Some("en-US,en;q=0.9,zh-CN;q=0.8"), Some("fr-FR")];

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

fn assert_chinese(page: &Page, texts: &[&str]) {
    let body = &page.body;
    assert_eq!(page.status, 200, "{body}");
    assert!(
        body.starts_with("<!DOCTYPE html><html lang=\"zh-CN\">"),
        "{body}"
    );
    for text in texts {
        assert!(body.contains(text), "{text}: {body}");
    }
}

fn assert_english(page: &Page, texts: &[&str]) {
    let body = &page.body;
    assert_eq!(page.status, 200, "{body}");
    assert!(
        body.starts_with("<!DOCTYPE html><html lang=\"en\">"),
        "{body}"
    );
    for text in texts {
        assert!(body.contains(text), "{text}: {body}");
    }
    assert!(!has_chinese(body), "no Chinese on an English page: {body}");
}

/// GET `url` as a browser preferring `lang` (no header for `None`).
async fn get_in(url: &str, lang: Option<&str>, cookie: Option<&str>) -> Page {
    let mut headers = Vec::new();
    if let Some(lang) = lang {
        headers.push(("accept-language", lang));
    }
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    get(url, &headers).await
}

/// A result token for `sub`, signed with the demo key (or `key`) for the demo's origin.
fn token(server: &LocalServer, sub: &str, key: Option<&SigningKey>) -> String {
    let demo = SigningKey::new(server.demo_signing_key.clone().unwrap().as_bytes()).unwrap();
    let now = now_epoch_seconds();
    let claims = wxauth_core::ResultClaims {
        iss: server.base_url.clone(),
        aud: server.base_url.clone(),
        sub: sub.into(),
        iat: now,
        exp: now + 300,
        jti: wxauth_core::token::new_token_id(),
        scope: "snsapi_base".into(),
        appid: "wx0123456789abcdef".into(),
        unionid: None,
        nickname: None,
        headimgurl: None,
        is_snapshotuser: None,
        nonce: None,
        phone_number: None,
        phone_number_verified: None,
    };
    wxauth_core::token::sign(&claims, key.unwrap_or(&demo))
}

#[tokio::test]
async fn the_landing_page_speaks_the_visitors_language() {
    let server = start_with(&[]).await.unwrap();
    let url = format!("{}/", server.base_url);

    let zh = get_in(&url, Some(ZH), None).await;
    assert_chinese(
        &zh,
        &[
            "<title>wxauth 演示</title>",
            "<h1>wxauth 演示</h1>",
            "模拟微信",
            "<label for=\"name\">微信用户名</label>",
            "<button type=\"submit\">使用此用户</button>",
            "静默登录（snsapi_base）",
            "登录并获取资料（snsapi_userinfo）",
            "form_post",
            "作为 OpenID Provider",
            "<code>wxauth-demo</code>",
            "用 OIDC 登录",
            "<code>WECHAT_APP_ID</code>",
        ],
    );
    assert!(!zh.body.contains("Log in"), "{}", zh.body);
    // The same form and buttons, leading to the same places.
    assert!(
        zh.body
            .contains("<input id=\"name\" name=\"name\" value=\"demo-user\"")
    );
    let en = get_in(&url, None, None).await;
    assert_eq!(hrefs(&zh.body, "/"), hrefs(&en.body, "/"));
    assert_eq!(hrefs(&zh.body, "/auth?url=").len(), 5);
    assert_eq!(hrefs(&zh.body, "/demo/oidc/start").len(), 2);

    for lang in NOT_ZH {
        let en = get_in(&url, lang, None).await;
        assert_english(
            &en,
            &[
                "<title>wxauth demo</title>",
                "<label for=\"name\">WeChat user name</label>",
                "<button type=\"submit\">Use this user</button>",
                "Log in (silent, snsapi_base)",
                "Log in with OIDC",
            ],
        );
    }

    // A Chinese user name shows as it is on an English page, and a Chinese page is still
    // Chinese when WeChat sends its header in another case.
    let chosen = "wechat_sim_user=%E5%BC%A0%E5%B0%8F%E9%BE%99";
    let en = get_in(&url, None, Some(chosen)).await;
    assert!(en.body.contains("value=\"张小龙\""), "{}", en.body);
    assert!(en.body.contains("WeChat user name"), "{}", en.body);
    let zh = get_in(&url, Some("ZH-cn"), Some(chosen)).await;
    assert_chinese(&zh, &["value=\"张小龙\"", "微信用户名"]);

    // Opened under another name than the demo's: the warning is translated too.
    let elsewhere = get(&url, &[("host", "wxauth.test"), ("accept-language", ZH)]).await;
    assert_chinese(
        &elsewhere,
        &["这个页面不是用演示的地址打开的", "模拟微信运行在那个地址上"],
    );
    assert!(elsewhere.body.contains("<p class=\"bad\">"));
}

#[tokio::test]
async fn the_result_page_speaks_the_visitors_language() {
    let server = start_with(&[]).await.unwrap();
    let base = &server.base_url;

    // Nothing yet.
    let url = format!("{base}/demo/result");
    assert_chinese(
        &get_in(&url, Some(ZH), None).await,
        &[
            "<title>登录结果</title>",
            "这里还没有收到任何结果",
            ">演示页面</a>",
        ],
    );
    for lang in NOT_ZH {
        assert_english(
            &get_in(&url, lang, None).await,
            &["<title>Login result</title>", "Nothing came back here yet"],
        );
    }

    // A verified token.
    let url = format!(
        "{base}/demo/result?openid=oALICE&token={}",
        token(&server, "oALICE", None)
    );
    let zh = get_in(&url, Some(ZH), None).await;
    assert_chinese(
        &zh,
        &[
            "<p class=\"ok\">已登录，openid 为 <code>oALICE</code>。</p>",
            "<h2>参数</h2>",
            "<tr><th>参数名</th><th>值</th></tr>",
            "<tr><th>openid</th><td>oALICE</td></tr>",
            "<h2>令牌</h2>",
            "令牌校验通过：由演示密钥签名（HS256）、未过期，且签发给本页面的来源",
            "<tr><th>声明</th><th>值</th></tr>",
            "<tr><th>scope</th><td>snsapi_base</td></tr>",
            "秒后过期）</td>",
            ">返回演示</a>",
        ],
    );
    for lang in NOT_ZH {
        assert_english(
            &get_in(&url, lang, None).await,
            &[
                "Signed in as openid <code>oALICE</code>.",
                "<tr><th>name</th><th>value</th></tr>",
                "Token verified: signed with the demo key (HS256)",
                "<tr><th>claim</th><th>value</th></tr>",
                " s)</td>",
                ">Back to the demo</a>",
            ],
        );
    }

    // The token's subject is not the openid parameter.
    let url = format!(
        "{base}/demo/result?openid=oMALLORY&token={}",
        token(&server, "oALICE", None)
    );
    assert_chinese(
        &get_in(&url, Some(ZH), None).await,
        &["令牌的主体（sub）与 <code>openid</code> 参数不一致：请以令牌为准，不要相信参数。"],
    );
    assert_english(
        &get_in(&url, None, None).await,
        &["Its subject differs from the <code>openid</code> parameter"],
    );

    // A token signed with another key; two tokens.
    let (other, _) = SigningKey::generate();
    let url = format!(
        "{base}/demo/result?openid=oALICE&token={}",
        token(&server, "oALICE", Some(&other))
    );
    assert_chinese(
        &get_in(&url, Some(ZH), None).await,
        &["<p class=\"bad\">令牌校验失败：签名不匹配。</p>"],
    );
    assert_english(
        &get_in(&url, None, None).await,
        &["<p class=\"bad\">Token not verified: the token's signature does not match.</p>"],
    );
    let url = format!("{base}/demo/result?openid=oALICE&token=a&token=b");
    assert_chinese(
        &get_in(&url, Some(ZH), None).await,
        &["令牌未校验：收到了不止一个令牌。"],
    );

    // A refusal: the explanation translates, the error code stays as it is.
    let url = format!("{base}/demo/result?error=access_denied&error_description=the+user+declined");
    let zh = get_in(&url, Some(ZH), None).await;
    assert_chinese(
        &zh,
        &[
            "<p class=\"bad\">登录没有成功：<code>access_denied</code>（the user declined）</p>",
            "<tr><th>error</th><td>access_denied</td></tr>",
            "没有收到令牌（登录失败时不会带令牌）。",
        ],
    );
    assert!(!zh.body.contains("class=\"ok\""), "{}", zh.body);
    assert_english(
        &get_in(&url, None, None).await,
        &[
            "The login did not succeed: <code>access_denied</code> (the user declined)",
            "No token came back",
        ],
    );

    // form_post: the POSTed result follows the header too.
    let posted = crate::support::client()
        .post(format!("{base}/demo/result"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept-language", ZH)
        .body(format!(
            "openid=oALICE&token={}",
            token(&server, "oALICE", None)
        ))
        .send()
        .await
        .unwrap();
    let page = Page {
        status: posted.status().as_u16(),
        headers: posted.headers().clone(),
        body: posted.text().await.unwrap(),
    };
    assert_chinese(
        &page,
        &["已登录，openid 为 <code>oALICE</code>", "令牌校验通过"],
    );
}

#[tokio::test]
async fn the_oidc_pages_speak_the_visitors_language() {
    let server = start_with(&[]).await.unwrap();
    let sim = server.demo_simulator().unwrap();
    let base = &server.base_url;

    // Refused: the reason translates, with its technical words as they are.
    let url = format!("{base}/demo/oidc/callback?code=x");
    assert_chinese(
        &get_in(&url, Some(ZH), None).await,
        &[
            "<title>OIDC 登录</title>",
            "<h1>OIDC 登录失败</h1>",
            "<p class=\"bad\">这个浏览器里没有进行中的登录（请重新开始）</p>",
            ">返回演示</a>",
        ],
    );
    for lang in NOT_ZH {
        assert_english(
            &get_in(&url, lang, None).await,
            &[
                "<h1>OIDC login failed</h1>",
                "<p class=\"bad\">no login in flight in this browser (start again)</p>",
            ],
        );
    }

    // The redirect that starts a login is the same whatever the language.
    let start = get_in(&format!("{base}/demo/oidc/start"), Some(ZH), None).await;
    assert_eq!(start.status, 303);
    assert!(
        start
            .location()
            .starts_with("/oauth2/authorize?client_id=wxauth-demo&")
    );
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
    assert_chinese(
        &get_in(&forged, Some(ZH), Some(&rp_cookie)).await,
        &["state 与这个浏览器里的登录不符"],
    );

    // A whole login, read in Chinese; the reload (the code is used up) too.
    let (callback, rp_cookie) = oidc_login(&server, "张小龙").await;
    let zh = get_in(&callback, Some(ZH), Some(&rp_cookie)).await;
    assert_chinese(
        &zh,
        &[
            "<h1>已通过 OIDC 登录</h1>",
            "<p class=\"ok\">ID Token 校验通过：用 <code>",
            "/.well-known/jwks.json</code> 中的密钥 <code>",
            " RS256 签名，并核对了签发方、受众 <code>wxauth-demo</code>、有效期、nonce 和 at_hash。",
            "<h2>ID Token 中的声明</h2>",
            "<tr><th>声明</th><th>值</th></tr>",
            // Outside WeChat: the QR login's Website App openid.
            &format!(
                "<tr><th>sub</th><td>{}</td></tr>",
                sim.openid_for_app(wxauth_local::DEMO_WEB_APP_ID, "张小龙")
            ),
            "<tr><th>name</th><td>张小龙</td></tr>",
            "<h2>用户信息（userinfo）</h2>",
        ],
    );
    let reload = get_in(&callback, Some(ZH), Some(&rp_cookie)).await;
    assert_chinese(&reload, &["令牌端点返回了 invalid_grant："]);

    let (callback, rp_cookie) = oidc_login(&server, "Alice Li").await;
    assert_english(
        &get_in(&callback, None, Some(&rp_cookie)).await,
        &[
            "<h1>Logged in with OIDC</h1>",
            "RS256 signature of key",
            "<h2>ID token claims</h2>",
            "<tr><th>name</th><td>Alice Li</td></tr>",
        ],
    );
}

#[tokio::test]
async fn choosing_the_user_redirects_the_same_in_any_language() {
    let server = start_with(&[]).await.unwrap();
    let url = format!("{}/demo/user?name=dora", server.base_url);
    let zh = get_in(&url, Some(ZH), None).await;
    let en = get_in(&url, None, None).await;
    for answer in [&zh, &en] {
        assert_eq!(answer.status, 303);
        assert_eq!(answer.location(), "/");
        assert!(answer.body.is_empty());
    }
    assert_eq!(zh.header("set-cookie"), en.header("set-cookie"));
}
