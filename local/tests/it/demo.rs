//! Demo mode end to end, in the order a browser would go: landing page, /auth, the
//! simulated WeChat under /wechat, the callback, and the result page.

use wxauth_core::SigningKey;
use wxauth_core::login_state::now_epoch_seconds;
use wxauth_core::token::verify;
use wxauth_local::{DEMO_APP_ID, DEMO_WEB_APP_ID, LocalServer};

use crate::support::{self, follow, get, hidden_fields, hrefs, query_params, start_with};

fn assert_page_headers(page: &support::Page) {
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    let csp = page.header("content-security-policy");
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(!csp.contains("script"), "{csp}");
    assert!(!page.body.contains("<script"), "{}", page.body);
}

/// The landing page's login link for `scope`, absolute.
async fn login_link(page_url: &str, scope: &str, cookie: Option<&str>) -> String {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    let landing = get(page_url, &headers).await;
    assert_eq!(landing.status, 200, "{}", landing.body);
    assert_page_headers(&landing);
    let links = hrefs(&landing.body, "/auth?url=");
    assert_eq!(links.len(), 5, "{}", landing.body);
    let link = links
        .into_iter()
        .find(|link| link.ends_with(&format!("&scope={scope}")))
        .unwrap_or_else(|| panic!("no {scope} button in {}", landing.body));
    follow(page_url, &link)
}

/// From /auth to the result page's URL, as the WeChat user named by `identity` (a
/// header); `decision` answers the consent sheet (snsapi_userinfo).
async fn log_in(
    server: &LocalServer,
    auth_url: &str,
    identity: (&str, &str),
    decision: Option<&str>,
) -> String {
    let auth = get(auth_url, &[]).await;
    assert_eq!(auth.status, 302, "{}", auth.body);
    let authorize = auth.location();
    assert!(
        authorize.starts_with(&format!(
            "{}/wechat/connect/oauth2/authorize?appid={DEMO_APP_ID}&",
            server.base_url
        )),
        "{authorize}"
    );
    assert!(authorize.ends_with("#wechat_redirect"), "{authorize}");

    let at_wechat = get(&authorize, &[identity]).await;
    let callback = match decision {
        None => {
            assert_eq!(at_wechat.status, 302, "{}", at_wechat.body);
            at_wechat.location()
        }
        Some(decision) => {
            // The consent sheet: submit its form as a browser would.
            assert_eq!(at_wechat.status, 200);
            assert!(at_wechat.body.contains("action=\"authorize/confirm\""));
            let mut fields = hidden_fields(&at_wechat.body);
            fields.push(("decision".into(), decision.into()));
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&fields)
                .finish();
            let confirm = follow(&authorize, &format!("authorize/confirm?{query}"));
            let confirmed = get(&confirm, &[identity]).await;
            assert_eq!(confirmed.status, 302, "{}", confirmed.body);
            confirmed.location()
        }
    };
    let origin = url::Url::parse(auth_url)
        .unwrap()
        .origin()
        .ascii_serialization();
    assert!(callback.starts_with(&format!("{origin}/get")), "{callback}");

    let finished = get(&callback, &[("cookie", &auth.binding_cookie())]).await;
    assert_eq!(finished.status, 302, "{}", finished.body);
    let result = finished.location();
    assert!(
        result.starts_with(&format!("{origin}/demo/result?")),
        "{result}"
    );
    result
}

#[tokio::test]
async fn silent_login_shows_the_simulators_openid_and_a_verified_token() {
    let server = start_with(&[]).await.unwrap();
    let key = server
        .demo_signing_key
        .clone()
        .expect("demo mode prints its key");
    let sim = server
        .demo_simulator()
        .expect("demo mode embeds the simulator");
    let openid = sim.openid_for("alice");

    let auth = login_link(&format!("{}/", server.base_url), "snsapi_base", None).await;
    let result = log_in(&server, &auth, ("x-wechat-sim-user", "alice"), None).await;

    let params = query_params(&result);
    assert_eq!(params["openid"], openid);
    assert!(!params.contains_key("nickname"));
    let claims = verify(
        &params["token"],
        &SigningKey::new(key.as_bytes()).unwrap(),
        Some(&server.base_url),
        now_epoch_seconds(),
    )
    .unwrap();
    assert_eq!(claims.sub, openid);
    assert_eq!(claims.iss, server.base_url);
    assert_eq!(claims.scope, "snsapi_base");

    let page = get(&result, &[]).await;
    assert_eq!(page.status, 200);
    assert_page_headers(&page);
    assert!(
        page.body.contains(&format!("<td>{openid}</td>")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Token verified"), "{}", page.body);
    assert!(!page.body.contains("not verified"), "{}", page.body);
    assert!(page.body.contains("<th>scope</th><td>snsapi_base</td>"));
}

#[tokio::test]
async fn profile_login_uses_the_user_chosen_on_the_landing_page() {
    let server = start_with(&[]).await.unwrap();
    let sim = server.demo_simulator().unwrap();

    // The form on the landing page: GET /demo/user?name=…, which sets the cookie.
    let chosen = get(
        &format!("{}/demo/user?name=Bob+%3CLi%3E", server.base_url),
        &[],
    )
    .await;
    assert_eq!(chosen.status, 303);
    assert_eq!(chosen.location(), "/");
    let set_cookie = chosen.header("set-cookie");
    assert!(
        set_cookie.starts_with("wechat_sim_user=Bob%20%3CLi%3E;"),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let landing = get(&format!("{}/", server.base_url), &[("cookie", &cookie)]).await;
    assert!(
        landing.body.contains("value=\"Bob &lt;Li&gt;\""),
        "{}",
        landing.body
    );
    assert!(!landing.body.contains("<Li>"));

    let auth = login_link(
        &format!("{}/", server.base_url),
        "snsapi_userinfo",
        Some(&cookie),
    )
    .await;
    let result = log_in(&server, &auth, ("cookie", &cookie), Some("allow")).await;
    let params = query_params(&result);
    assert_eq!(params["openid"], sim.openid_for("Bob <Li>"));
    assert_eq!(params["unionid"], sim.unionid_for("Bob <Li>"));
    assert_eq!(params["nickname"], "Bob <Li>");

    let page = get(&result, &[]).await;
    assert_page_headers(&page);
    let body = &page.body;
    assert!(body.contains("Token verified"), "{body}");
    assert!(body.contains(&sim.openid_for("Bob <Li>")));
    assert!(body.contains(&sim.unionid_for("Bob <Li>")));
    assert!(
        body.contains("<th>nickname</th><td>Bob &lt;Li&gt;</td>"),
        "{body}"
    );
    assert!(
        body.contains("<th>scope</th><td>snsapi_userinfo</td>"),
        "{body}"
    );
    assert!(!body.contains("<Li>"), "{body}");
}

#[tokio::test]
async fn a_declined_consent_shows_the_error_and_no_token() {
    let server = start_with(&[]).await.unwrap();
    let auth = login_link(&format!("{}/", server.base_url), "snsapi_userinfo", None).await;
    let result = log_in(&server, &auth, ("x-wechat-sim-user", "carol"), Some("deny")).await;
    assert_eq!(query_params(&result)["error"], "access_denied");

    let page = get(&result, &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("did not succeed"), "{}", page.body);
    assert!(
        page.body.contains("<td>access_denied</td>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("No token came back"), "{}", page.body);
    assert!(!page.body.contains("Token verified"));
}

#[tokio::test]
async fn the_demo_works_under_localhost_too() {
    let server = start_with(&[]).await.unwrap();
    let port = support::port_of(&server);
    let sim = server.demo_simulator().unwrap();
    let localhost = format!("http://localhost:{port}");

    // Choosing a user on localhost also sets the cookie on 127.0.0.1, where the simulated
    // WeChat is, and comes back to localhost.
    let first = get(&format!("{localhost}/demo/user?name=dora"), &[]).await;
    assert_eq!(first.status, 303);
    assert!(
        first
            .header("set-cookie")
            .starts_with("wechat_sim_user=dora;")
    );
    let hop = first.location();
    assert!(
        hop.starts_with(&format!("{}/demo/user?", server.base_url)),
        "{hop}"
    );
    let second = get(&hop, &[]).await;
    assert_eq!(second.status, 303);
    assert!(
        second
            .header("set-cookie")
            .starts_with("wechat_sim_user=dora;")
    );
    assert_eq!(second.location(), format!("{localhost}/"));

    let auth = login_link(&format!("{localhost}/"), "snsapi_base", None).await;
    assert!(auth.contains("url=http%3A%2F%2Flocalhost%3A"), "{auth}");
    let result = log_in(&server, &auth, ("cookie", "wechat_sim_user=dora"), None).await;
    let page = get(&result, &[]).await;
    assert!(page.body.contains(&sim.openid_for("dora")));
    assert!(page.body.contains("Token verified"), "{}", page.body);

    // The same result shown under the other name: the token is not for that origin.
    let elsewhere = result.replace(&localhost, &server.base_url);
    let page = get(&elsewhere, &[]).await;
    assert!(
        page.body
            .contains("Token not verified: the token was issued for another audience"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_result_page_escapes_what_it_echoes_and_rejects_forged_tokens() {
    let server = start_with(&[]).await.unwrap();
    let page = get(
        &format!(
            "{}/demo/result?openid=%3Cscript%3Ealert(1)%3C%2Fscript%3E&nickname=%22%3E%3Cimg&token=e30.e30.AAAA",
            server.base_url
        ),
        &[],
    )
    .await;
    assert_eq!(page.status, 200);
    assert_page_headers(&page);
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.body.contains("&quot;&gt;&lt;img"));
    assert!(!page.body.contains("<img"));
    assert!(page.body.contains("Token not verified"), "{}", page.body);

    // A well-formed token signed with another key.
    let (other, _) = SigningKey::generate();
    let claims = wxauth_core::ResultClaims {
        iss: server.base_url.clone(),
        aud: server.base_url.clone(),
        sub: "oFORGED".into(),
        iat: now_epoch_seconds(),
        exp: now_epoch_seconds() + 60,
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
    let forged = wxauth_core::token::sign(&claims, &other);
    let page = get(
        &format!(
            "{}/demo/result?openid=oFORGED&token={forged}",
            server.base_url
        ),
        &[],
    )
    .await;
    assert!(
        page.body
            .contains("Token not verified: the token's signature does not match"),
        "{}",
        page.body
    );

    let empty = get(&format!("{}/demo/result", server.base_url), &[]).await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("Nothing came back here yet"));
}

#[tokio::test]
async fn demo_settings_override_the_environment_but_keep_extra_origins() {
    let user_key = "user-configured-key-that-must-stay-unused-0000";
    let server = start_with(&[
        ("TOKEN_SIGNING_KEY", user_key),
        ("WECHAT_APP_SECRET", "user-secret-never-printed"),
        ("ALLOWED_RETURN_ORIGINS", "https://app.example.com"),
    ])
    .await
    .unwrap();
    let demo_key = server.demo_signing_key.clone().unwrap();
    assert_ne!(demo_key, user_key);
    let banner = server.banner();
    assert!(
        banner.contains(&format!("open {}/", server.base_url)),
        "{banner}"
    );
    assert!(banner.contains("demo"), "{banner}");
    assert!(banner.contains("in-memory"), "{banner}");
    assert!(banner.contains(&demo_key), "{banner}");
    assert!(!banner.contains(user_key), "{banner}");
    assert!(!banner.contains("user-secret-never-printed"), "{banner}");
    assert!(
        banner.contains("ignored in demo mode: WECHAT_APP_SECRET, TOKEN_SIGNING_KEY"),
        "{banner}"
    );

    // The user's own origin is still allowed as a return URL.
    let auth = get(
        &format!(
            "{}/auth?url=https%3A%2F%2Fapp.example.com%2Fback&scope=snsapi_base",
            server.base_url
        ),
        &[],
    )
    .await;
    assert_eq!(auth.status, 302, "{}", auth.body);
    let elsewhere = get(
        &format!(
            "{}/auth?url=https%3A%2F%2Fevil.example.com%2F&scope=snsapi_base",
            server.base_url
        ),
        &[],
    )
    .await;
    assert_eq!(elsewhere.status, 400);
    assert_eq!(elsewhere.json()["error"], "invalid_request");
}

#[tokio::test]
async fn demo_pages_answer_only_get() {
    let server = start_with(&[]).await.unwrap();
    let response = support::client()
        .post(format!("{}/", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    // Gateway routes keep the core's answer.
    let response = support::client()
        .post(format!("{}/auth", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
}

#[tokio::test]
async fn form_post_results_are_posted_to_the_result_page() {
    let server = start_with(&[]).await.unwrap();
    let sim = server.demo_simulator().unwrap();
    let landing = get(&format!("{}/", server.base_url), &[]).await;
    let link = hrefs(&landing.body, "/auth?")
        .into_iter()
        .find(|l| l.contains("response_mode=form_post"))
        .expect("a form_post button on the landing page");
    let auth_url = follow(&format!("{}/", server.base_url), &link);
    let auth = get(&auth_url, &[]).await;
    let authorize = auth.location();
    let consent = get(&authorize, &[("x-wechat-sim-user", "fran")]).await;
    let mut fields = hidden_fields(&consent.body);
    fields.push(("decision".into(), "allow".into()));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&fields)
        .finish();
    let confirm = follow(&authorize, &format!("authorize/confirm?{query}"));
    let callback = get(&confirm, &[("x-wechat-sim-user", "fran")])
        .await
        .location();

    // The gateway answers with a page that posts the result, not a redirect.
    let posting = get(&callback, &[("cookie", &auth.binding_cookie())]).await;
    assert_eq!(posting.status, 200, "{}", posting.body);
    let action = posting
        .body
        .split("<form method=\"post\" action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(support::unescape)
        .expect("a form");
    assert_eq!(action, format!("{}/demo/result", server.base_url));
    let posted = hidden_fields(&posting.body);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&posted)
        .finish();
    let result = support::client()
        .post(&action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), 200);
    let page = result.text().await.unwrap();
    assert!(
        page.contains(&format!("<td>{}</td>", sim.openid_for("fran"))),
        "{page}"
    );
    assert!(page.contains("Token verified"), "{page}");
}

/// Markup, an attribute break-out and an entity in one value (within the 64 characters a
/// user name may have).
const HOSTILE: &str = r#"<script>alert('x')</script>"><img src=x onerror=alert(1)>&"#;
/// HOSTILE as the pages must show it. Single quotes stay: every attribute is double-quoted.
const HOSTILE_ESCAPED: &str =
    "&lt;script&gt;alert('x')&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;";

fn assert_escaped(page: &support::Page, what: &str, times: usize) {
    assert_page_headers(page);
    let body = &page.body;
    assert!(!body.contains("<script"), "{what}: {body}");
    assert!(!body.contains("<img"), "{what}: {body}");
    assert_eq!(
        body.matches(HOSTILE_ESCAPED).count(),
        times,
        "{what}: shown, escaped: {body}"
    );
}

#[tokio::test]
async fn every_page_that_echoes_input_escapes_it() {
    // In both languages: the Chinese pages splice the same values.
    for (accept_language, lang, verified) in [
        (None, "en", "Token verified"),
        (Some("zh-CN"), "zh-CN", "令牌校验通过"),
    ] {
        echoed_input_is_escaped(accept_language, lang, verified).await;
    }
}

async fn echoed_input_is_escaped(accept_language: Option<&str>, lang: &str, verified: &str) {
    let server = start_with(&[]).await.unwrap();
    let base = &server.base_url;
    let encoded = |value: &str| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("v", value)
            .finish()[2..]
            .to_owned()
    };
    let language: Vec<(&str, &str)> = accept_language
        .map(|l| ("accept-language", l))
        .into_iter()
        .collect();
    let html_lang = format!("<html lang=\"{lang}\">");

    // The landing page shows the user chosen by cookie, in an attribute.
    let chosen = get(&format!("{base}/demo/user?name={}", encoded(HOSTILE)), &[]).await;
    let cookie = chosen
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let landing = get(
        &format!("{base}/"),
        &[&[("cookie", cookie.as_str())], language.as_slice()].concat(),
    )
    .await;
    assert_escaped(&landing, "landing page", 1);
    assert!(landing.body.contains(&html_lang), "{}", landing.body);
    assert!(
        landing
            .body
            .contains(&format!("value=\"{HOSTILE_ESCAPED}\"")),
        "{}",
        landing.body
    );

    // The result page: parameter names and values, the error and its description.
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair(HOSTILE, "1")
        .append_pair("error", HOSTILE)
        .append_pair("error_description", HOSTILE)
        .finish();
    let page = get(&format!("{base}/demo/result?{query}"), &language).await;
    // The error line twice (code, description), the table three times.
    assert_escaped(&page, "failed result", 5);
    assert!(page.body.contains(&html_lang), "{}", page.body);

    // A token signed with the demo key whose claims are hostile: the claims table.
    let key = SigningKey::new(server.demo_signing_key.clone().unwrap().as_bytes()).unwrap();
    let now = now_epoch_seconds();
    let claims = wxauth_core::ResultClaims {
        iss: HOSTILE.into(),
        aud: base.clone(),
        sub: HOSTILE.into(),
        iat: now,
        exp: now + 60,
        jti: wxauth_core::token::new_token_id(),
        scope: HOSTILE.into(),
        appid: "wx0123456789abcdef".into(),
        unionid: Some(HOSTILE.into()),
        nickname: Some(HOSTILE.into()),
        headimgurl: Some(HOSTILE.into()),
        is_snapshotuser: None,
        nonce: None,
        phone_number: None,
        phone_number_verified: None,
    };
    let token = wxauth_core::token::sign(&claims, &key);
    let params = form_urlencoded::Serializer::new(String::new())
        .append_pair("openid", HOSTILE)
        .append_pair("nickname", HOSTILE)
        .append_pair("token", &token)
        .finish();
    let page = get(&format!("{base}/demo/result?{params}"), &language).await;
    assert!(page.body.contains(verified), "{}", page.body);
    // "Signed in as", two parameters, six claims.
    assert_escaped(&page, "result with a token", 9);
    assert!(page.body.contains(&html_lang), "{}", page.body);

    // The same, POSTed (response_mode=form_post).
    let mut post = support::client()
        .post(format!("{base}/demo/result"))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(accept_language) = accept_language {
        post = post.header("accept-language", accept_language);
    }
    let posted = post.body(params).send().await.unwrap();
    let page = support::Page {
        status: posted.status().as_u16(),
        headers: posted.headers().clone(),
        body: posted.text().await.unwrap(),
    };
    assert_eq!(page.status, 200);
    assert_escaped(&page, "posted result", 9);
    assert!(page.body.contains(&html_lang), "{}", page.body);
}

#[tokio::test]
async fn qr_login_and_scope_auto_use_the_demos_website_app_outside_wechat() {
    let server = start_with(&[]).await.unwrap();
    let key = server.demo_signing_key.clone().unwrap();
    let sim = server.demo_simulator().unwrap();
    let base = format!("{}/", server.base_url);
    let identity = ("x-wechat-sim-user", "quinn");

    for (button, user_agent) in [
        ("snsapi_login&app=web", None),
        ("auto&auto_scope=snsapi_userinfo", None),
    ] {
        let auth = login_link(&base, button, None).await;
        let agent: Vec<(&str, &str)> = user_agent
            .map(|ua| ("user-agent", ua))
            .into_iter()
            .collect();
        let started = get(&auth, &agent).await;
        assert_eq!(started.status, 302, "{}", started.body);
        let authorize = started.location();
        assert!(
            authorize.starts_with(&format!(
                "{}/wechat/connect/qrconnect?appid={DEMO_WEB_APP_ID}&",
                server.base_url
            )),
            "{authorize}"
        );
        let qr_page = get(&authorize, &[identity]).await;
        assert_eq!(qr_page.status, 200);
        assert!(qr_page.body.contains("action=\"qrconnect/confirm\""));
        let mut fields = hidden_fields(&qr_page.body);
        fields.push(("decision".into(), "allow".into()));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        let scanned = get(
            &follow(&authorize, &format!("qrconnect/confirm?{query}")),
            &[identity],
        )
        .await;
        assert_eq!(scanned.status, 302, "{}", scanned.body);
        let callback = scanned.location();
        assert!(
            callback.starts_with(&format!("{}/getQrUserInfo?code=", server.base_url)),
            "{callback}"
        );
        let finished = get(&callback, &[("cookie", &started.binding_cookie())]).await;
        assert_eq!(finished.status, 302, "{}", finished.body);
        let params = query_params(&finished.location());
        let openid = sim.openid_for_app(DEMO_WEB_APP_ID, "quinn");
        assert_eq!(params["openid"], openid);
        assert_eq!(params["unionid"], sim.unionid_for("quinn"));
        let claims = verify(
            &params["token"],
            &SigningKey::new(key.as_bytes()).unwrap(),
            Some(&server.base_url),
            now_epoch_seconds(),
        )
        .unwrap();
        assert_eq!(claims.appid, DEMO_WEB_APP_ID);
        assert_eq!(claims.scope, "snsapi_login");
    }

    // scope=auto inside WeChat: the Official Account, with the profile auto_scope asks for.
    let auth = login_link(&base, "auto&auto_scope=snsapi_userinfo", None).await;
    let started = get(
        &auth,
        &[("user-agent", "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50")],
    )
    .await;
    assert!(
        started.location().starts_with(&format!(
            "{}/wechat/connect/oauth2/authorize?appid={DEMO_APP_ID}&",
            server.base_url
        )),
        "{}",
        started.location()
    );
    assert!(started.location().contains("&scope=snsapi_userinfo&"));
}
