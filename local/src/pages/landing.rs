//! `/`: choose the simulated WeChat user, then start a login in one of three ways.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use maud::html;
use wechat_simulator::DEFAULT_USER;
use wxauth_core::lang::Lang;

use super::layout::page;
use super::user::{MAX_USER_CHARS, cookie_user};
use super::{DemoSite, page_lang, page_origin};

pub(super) async fn landing(State(site): State<Arc<DemoSite>>, headers: HeaderMap) -> Response {
    let origin = page_origin(&headers);
    let own = origin.clone().unwrap_or_else(|| site.canonical_origin());
    let return_url = format!("{own}/demo/result");
    let login_with = |extra: &[(&str, &str)]| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("url", &return_url);
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        format!("/auth?{}", query.finish())
    };
    let login = |scope: &str, mode: Option<&str>| match mode {
        Some(mode) => login_with(&[("scope", scope), ("response_mode", mode)]),
        None => login_with(&[("scope", scope)]),
    };
    let user = cookie_user(&headers).unwrap_or_else(|| DEFAULT_USER.to_owned());
    let on_loopback = origin
        .as_deref()
        .is_some_and(|o| o == site.canonical_origin() || o == site.localhost_origin());
    let canonical = site.canonical_origin();

    let lang = page_lang(&headers);
    let t = |en: &'static str, zh: &'static str| lang.pick(en, zh);

    let body = html! {
        h1 { (t("wxauth demo", "wxauth 演示")) }
        @if !on_loopback {
            p.bad {
                @match lang {
                    Lang::En => {
                        "This page was reached under another name than the demo's. Open "
                        a href={ (canonical) "/" } { (canonical) "/" }
                        " instead: the simulated WeChat lives there."
                    }
                    Lang::ZhCn => {
                        "这个页面不是用演示的地址打开的。请改为打开 "
                        a href={ (canonical) "/" } { (canonical) "/" }
                        "，模拟微信运行在那个地址上。"
                    }
                }
            }
        }
        p {
            (t(
                "This is wxauth, a WeChat web-authorization gateway, running on your machine \
                 against a simulated WeChat, so you can try a login without an Official \
                 Account. Choose who is holding the phone, log in, and see exactly what your \
                 front end would get back.",
                "这是 wxauth（微信网页授权网关），正在你的电脑上运行，连接的是模拟微信，\
                 不需要公众号就能体验登录。先选好拿着手机的微信用户，再登录，\
                 看看你的前端究竟会收到什么。",
            ))
        }
        form method="get" action="/demo/user" {
            label for="name" { (t("WeChat user name", "微信用户名")) }
            " "
            input id="name" name="name" value=(user) maxlength=(MAX_USER_CHARS)
                autocomplete="off";
            " "
            button type="submit" { (t("Use this user", "使用此用户")) }
        }
        p.actions {
            a.button href=(login("snsapi_base", None)) {
                (t("Log in (silent, snsapi_base)", "静默登录（snsapi_base）"))
            }
            " "
            a.button href=(login("snsapi_userinfo", None)) {
                (t(
                    "Log in (with profile, snsapi_userinfo)",
                    "登录并获取资料（snsapi_userinfo）",
                ))
            }
            " "
            a.button href=(login("snsapi_userinfo", Some("form_post"))) {
                (t(
                    "Log in (with profile, result by form_post)",
                    "登录并获取资料（结果以 form_post 提交）",
                ))
            }
        }
        h2 { (t("Outside WeChat: QR login", "微信外：扫码登录")) }
        p {
            @match lang {
                Lang::En => {
                    "In a desktop browser WeChat logs in by QR code, with a Website App ("
                    code { "web" } ", paired with the Official Account " code { "mp" } "). "
                    code { "scope=auto" } " picks by browser: the Official Account inside                      WeChat, the QR code anywhere else. Both give the same "
                    code { "unionid" } " for one person."
                }
                Lang::ZhCn => {
                    "在电脑浏览器里，微信通过网站应用（" code { "web" } "，与公众号 "
                    code { "mp" } " 配对）扫码登录。" code { "scope=auto" }
                    " 按浏览器自动选择：微信内用公众号，其他地方用二维码。                     同一个人两种方式得到的 " code { "unionid" } " 相同。"
                }
            }
        }
        p.actions {
            a.button href=(login_with(&[("scope", "snsapi_login"), ("app", "web")])) {
                (t("Log in by QR code (snsapi_login)", "扫码登录（snsapi_login）"))
            }
            " "
            a.button href=(login_with(&[("scope", "auto"), ("auto_scope", "snsapi_userinfo")])) {
                (t("Log in, chosen by browser (scope=auto)", "按浏览器自动选择登录（scope=auto）"))
            }
        }
        h2 { (t("As an OpenID Provider", "作为 OpenID Provider")) }
        p {
            @match lang {
                Lang::En => {
                    "The same login through OpenID Connect: the demo's own relying party \
                     (client " code { "wxauth-demo" } ") runs the code flow with PKCE and \
                     checks the ID token against the provider's JWKS."
                }
                Lang::ZhCn => {
                    "通过 OpenID Connect 完成同样的登录：演示自带的依赖方（客户端 "
                    code { "wxauth-demo" } "）走带 PKCE 的授权码流程，\
                     并用提供方的 JWKS 校验 ID Token。"
                }
            }
        }
        p.actions {
            a.button href="/demo/oidc/start" { (t("Log in with OIDC", "用 OIDC 登录")) }
            " "
            a.button href="/demo/oidc/start?profile=1" {
                (t("Log in with OIDC (with profile)", "用 OIDC 登录（获取资料）"))
            }
        }
        p.note {
            @match lang {
                Lang::En => {
                    "You come back to " code { (return_url) } ". Result tokens are signed \
                     with the demo key printed in the terminal; set " code { "WECHAT_APP_ID" }
                    " and the other variables (or " code { "WECHAT_APPS" } ") to use real WeChat apps."
                }
                Lang::ZhCn => {
                    "登录后回到 " code { (return_url) } "。结果中的令牌用终端里打印的演示密钥签名；\
                     要使用真实的公众号，请设置 " code { "WECHAT_APP_ID" } " 等环境变量（或 "
                    code { "WECHAT_APPS" } "）。"
                }
            }
        }
    };
    page(
        &site,
        lang,
        StatusCode::OK,
        t("wxauth demo", "wxauth 演示"),
        body,
    )
}
