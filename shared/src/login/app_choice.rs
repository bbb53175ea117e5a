//! Which WeChat app and scope a login uses: the app `/auth?app=` names (else the default
//! one) with the scope asked for, or with `scope=auto` the one that works where the
//! visitor is. Inside WeChat's in-app browser an Official Account logs in without a QR
//! code; anywhere else WeChat can only be reached by scanning one (a Website App's
//! `snsapi_login`), because the Official Account's authorize page answers "please open
//! this link in WeChat". This file is the one place where a login turns to QR: for
//! `/auth` ([`choose`]) and for the OpenID Provider ([`for_provider`]).

use crate::apps::{AppKind, WeChatApp, WeChatApps};
use crate::error::RequestError;
use crate::scope::Scope;

/// The scope a login asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeRequest {
    Fixed(Scope),
    /// `scope=auto`: `in_wechat` inside WeChat's browser (from `auto_scope`), `snsapi_login`
    /// with the Official Account's `qr_app` elsewhere.
    Auto {
        in_wechat: Scope,
    },
}

/// Whether the request comes from WeChat's in-app browser, which names itself
/// `MicroMessenger/<version>` in its User-Agent on every platform (phones and the desktop
/// clients alike).
pub fn is_wechat_browser(user_agent: Option<&str>) -> bool {
    user_agent.is_some_and(|ua| ua.contains("MicroMessenger"))
}

/// The app and scope a login starts with.
pub fn choose<'a>(
    apps: &'a WeChatApps,
    app: Option<&str>,
    scope: ScopeRequest,
    user_agent: Option<&str>,
) -> Result<(&'a WeChatApp, Scope), RequestError> {
    let named = match app {
        None => apps.default_app(),
        Some(name) => apps.get(name).ok_or(RequestError::UnknownApp)?,
    };
    if named.kind.logs_in_with_code() {
        // A Mini Program or mobile app logs in with POST /login/code, never by a redirect.
        let scope = match scope {
            ScopeRequest::Fixed(scope) => scope,
            ScopeRequest::Auto { in_wechat } => in_wechat,
        };
        return Err(RequestError::ScopeNotForApp {
            scope,
            kind: named.kind,
        });
    }
    let (app, scope) = match scope {
        ScopeRequest::Fixed(scope) => (named, scope),
        ScopeRequest::Auto { .. } if named.kind == AppKind::Website => {
            return Err(RequestError::AutoNeedsOfficialAccount);
        }
        ScopeRequest::Auto { in_wechat } if is_wechat_browser(user_agent) => (named, in_wechat),
        ScopeRequest::Auto { .. } => {
            let qr = named
                .qr_app
                .as_deref()
                .and_then(|name| apps.get(name))
                .ok_or(RequestError::NoQrApp)?;
            (qr, Scope::Login)
        }
    };
    if !app.kind.allows(scope) {
        return Err(RequestError::ScopeNotForApp {
            scope,
            kind: app.kind,
        });
    }
    Ok((app, scope))
}

/// The OpenID Provider's login, through the default app: its Official Account flow inside
/// WeChat, and outside WeChat the QR login of its `qr_app` when it has one (a Website App
/// logs in by QR anywhere). Relying parties cannot tell WeChat's browser from another, so
/// the provider chooses.
pub fn for_provider<'a>(
    apps: &'a WeChatApps,
    scope: Scope,
    user_agent: Option<&str>,
) -> (&'a WeChatApp, Scope) {
    let default = apps.default_app();
    if default.kind == AppKind::Website {
        return (default, Scope::Login);
    }
    match default.qr_app.as_deref().and_then(|name| apps.get(name)) {
        Some(qr) if !is_wechat_browser(user_agent) => (qr, Scope::Login),
        _ => (default, scope),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_origins::AllowedOrigins;

    const IPHONE_WECHAT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800322f) NetType/WIFI Language/zh_CN";
    const ANDROID_WECHAT: &str = "Mozilla/5.0 (Linux; Android 14; V2244A Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160117 MMWEBSDK/20240404 MMWEBID/1234 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";
    const DESKTOP_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

    fn apps(mp_qr: Option<&str>) -> WeChatApps {
        let origins = AllowedOrigins::parse("https://app.example.com").unwrap();
        let app = |name: &str, kind, qr: Option<&str>| WeChatApp {
            name: name.into(),
            kind,
            app_id: format!("wx-{name}"),
            secret: None,
            allowed_origins: origins.clone(),
            qr_app: qr.map(str::to_owned),
            response_modes: crate::response_modes::ResponseModes::default(),
            code_login: None,
        };
        WeChatApps::new(vec![
            app("mp", AppKind::OfficialAccount, mp_qr),
            app("web", AppKind::Website, None),
            app("mp2", AppKind::OfficialAccount, None),
        ])
        .unwrap()
    }

    fn chosen(
        apps: &WeChatApps,
        app: Option<&str>,
        scope: ScopeRequest,
        ua: Option<&str>,
    ) -> Result<(String, Scope), String> {
        choose(apps, app, scope, ua)
            .map(|(app, scope)| (app.name.clone(), scope))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn auto_picks_the_official_account_inside_wechat_and_its_qr_app_elsewhere() {
        let apps = apps(Some("web"));
        let auto = ScopeRequest::Auto {
            in_wechat: Scope::UserInfo,
        };
        for ua in [IPHONE_WECHAT, ANDROID_WECHAT] {
            assert_eq!(
                chosen(&apps, None, auto, Some(ua)),
                Ok(("mp".into(), Scope::UserInfo))
            );
        }
        for ua in [Some(DESKTOP_CHROME), Some(""), None] {
            assert_eq!(
                chosen(&apps, None, auto, ua),
                Ok(("web".into(), Scope::Login))
            );
        }
        // Case matters: WeChat spells it this way, and a look-alike is not WeChat.
        assert_eq!(
            chosen(&apps, None, auto, Some("micromessenger/8.0")),
            Ok(("web".into(), Scope::Login))
        );
    }

    #[test]
    fn auto_needs_an_official_account_and_outside_wechat_its_qr_app() {
        let apps = apps(None);
        let auto = ScopeRequest::Auto {
            in_wechat: Scope::Base,
        };
        assert_eq!(
            chosen(&apps, Some("mp2"), auto, Some(IPHONE_WECHAT)),
            Ok(("mp2".into(), Scope::Base))
        );
        assert!(
            chosen(&apps, Some("mp2"), auto, Some(DESKTOP_CHROME))
                .unwrap_err()
                .contains("qr_app")
        );
        assert!(
            chosen(&apps, Some("web"), auto, Some(DESKTOP_CHROME))
                .unwrap_err()
                .contains("official_account")
        );
    }

    #[test]
    fn fixed_scopes_must_suit_the_app() {
        let apps = apps(Some("web"));
        assert_eq!(
            chosen(&apps, Some("web"), ScopeRequest::Fixed(Scope::Login), None),
            Ok(("web".into(), Scope::Login))
        );
        assert_eq!(
            chosen(&apps, None, ScopeRequest::Fixed(Scope::Base), None),
            Ok(("mp".into(), Scope::Base))
        );
        let wrong = chosen(&apps, Some("web"), ScopeRequest::Fixed(Scope::Base), None);
        assert!(wrong.unwrap_err().contains("snsapi_base"));
        let wrong = chosen(&apps, None, ScopeRequest::Fixed(Scope::Login), None);
        assert!(wrong.unwrap_err().contains("snsapi_login"));
        assert!(
            chosen(&apps, Some("nope"), ScopeRequest::Fixed(Scope::Base), None)
                .unwrap_err()
                .contains("app")
        );
    }

    #[test]
    fn a_code_login_app_is_refused_whatever_the_scope() {
        let origins = AllowedOrigins::none();
        let apps = WeChatApps::new(vec![WeChatApp {
            name: "mini".into(),
            kind: AppKind::MiniProgram,
            app_id: "wx-mini".into(),
            secret: None,
            allowed_origins: origins,
            qr_app: None,
            response_modes: crate::response_modes::ResponseModes::default(),
            code_login: None,
        }])
        .unwrap();
        for scope in [
            ScopeRequest::Fixed(Scope::Base),
            ScopeRequest::Fixed(Scope::UserInfo),
            ScopeRequest::Fixed(Scope::Login),
            ScopeRequest::Auto {
                in_wechat: Scope::Base,
            },
        ] {
            for ua in [Some(IPHONE_WECHAT), Some(DESKTOP_CHROME)] {
                let err = choose(&apps, Some("mini"), scope, ua).unwrap_err();
                assert!(
                    matches!(
                        err,
                        RequestError::ScopeNotForApp {
                            kind: AppKind::MiniProgram,
                            ..
                        }
                    ),
                    "{err:?}"
                );
                assert_eq!(err.status(), 400);
                assert!(err.to_string().contains("miniprogram"), "{err}");
            }
        }
        let (app, scope) = for_provider(&apps, Scope::Base, Some(IPHONE_WECHAT));
        assert!(!app.kind.allows(scope), "the provider must refuse it");
    }

    #[test]
    fn the_provider_turns_to_qr_outside_wechat_only_with_a_qr_app() {
        let provided = |apps: &WeChatApps, ua| {
            let (app, scope) = for_provider(apps, Scope::UserInfo, ua);
            (app.name.clone(), scope)
        };
        let paired = apps(Some("web"));
        assert_eq!(
            provided(&paired, Some(IPHONE_WECHAT)),
            ("mp".to_owned(), Scope::UserInfo)
        );
        assert_eq!(
            provided(&paired, Some(DESKTOP_CHROME)),
            ("web".to_owned(), Scope::Login)
        );
        assert_eq!(provided(&paired, None), ("web".to_owned(), Scope::Login));
        // Without a qr_app the Official Account is all there is, wherever the visitor is.
        let alone = apps(None);
        assert_eq!(
            provided(&alone, Some(DESKTOP_CHROME)),
            ("mp".to_owned(), Scope::UserInfo)
        );
    }
}
