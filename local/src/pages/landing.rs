//! `/`: choose the simulated WeChat user, then start a login in one of three ways.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use maud::html;
use wechat_simulator::DEFAULT_USER;

use super::layout::page;
use super::user::{MAX_USER_CHARS, cookie_user};
use super::{DemoSite, page_origin};

pub(super) async fn landing(State(site): State<Arc<DemoSite>>, headers: HeaderMap) -> Response {
    let origin = page_origin(&headers);
    let own = origin.clone().unwrap_or_else(|| site.canonical_origin());
    let return_url = format!("{own}/demo/result");
    let login = |scope: &str, mode: Option<&str>| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("url", &return_url)
            .append_pair("scope", scope);
        if let Some(mode) = mode {
            query.append_pair("response_mode", mode);
        }
        format!("/auth?{}", query.finish())
    };
    let user = cookie_user(&headers).unwrap_or_else(|| DEFAULT_USER.to_owned());
    let on_loopback = origin
        .as_deref()
        .is_some_and(|o| o == site.canonical_origin() || o == site.localhost_origin());
    let canonical = site.canonical_origin();

    let body = html! {
        h1 { "wxauth demo" }
        @if !on_loopback {
            p.bad {
                "This page was reached under another name than the demo's. Open "
                a href={ (canonical) "/" } { (canonical) "/" }
                " instead: the simulated WeChat lives there."
            }
        }
        p {
            "This is wxauth, a WeChat web-authorization gateway, running on your machine \
             against a simulated WeChat, so you can try a login without an Official Account. \
             Choose who is holding the phone, log in, and see exactly what your front end \
             would get back."
        }
        form method="get" action="/demo/user" {
            label for="name" { "WeChat user name" }
            " "
            input id="name" name="name" value=(user) maxlength=(MAX_USER_CHARS)
                autocomplete="off";
            " "
            button type="submit" { "Use this user" }
        }
        p.actions {
            a.button href=(login("snsapi_base", None)) { "Log in (silent, snsapi_base)" }
            " "
            a.button href=(login("snsapi_userinfo", None)) {
                "Log in (with profile, snsapi_userinfo)"
            }
            " "
            a.button href=(login("snsapi_userinfo", Some("form_post"))) {
                "Log in (with profile, result by form_post)"
            }
        }
        h2 { "As an OpenID Provider" }
        p {
            "The same login through OpenID Connect: the demo's own relying party (client "
            code { "wxauth-demo" } ") runs the code flow with PKCE and checks the ID token              against the provider's JWKS."
        }
        p.actions {
            a.button href="/demo/oidc/start" { "Log in with OIDC" }
            " "
            a.button href="/demo/oidc/start?profile=1" { "Log in with OIDC (with profile)" }
        }
        p.note {
            "You come back to " code { (return_url) } ". Result tokens are signed with the \
             demo key printed in the terminal; set " code { "WECHAT_APP_ID" } " and the other \
             variables to use a real Official Account."
        }
    };
    page(&site, StatusCode::OK, "wxauth demo", body)
}
