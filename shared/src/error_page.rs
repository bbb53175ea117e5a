//! The HTML page a visitor sees when a request is refused, in their language: what
//! happened in plain words, a way forward when there is one ("重新登录 / Log in again" back
//! to the page that started an expired or finished login), and the technical detail for
//! whoever they ask for help.

use crate::error::{RequestError, StateProblem};
use crate::html::{self, escape};
use crate::lang::Lang;
use crate::redirect::result_url::result_url;
use crate::scope::ResponseMode;
use crate::store::StoreError;

pub(crate) fn render(err: &RequestError, lang: Lang) -> String {
    let title = lang.pick("Login failed", "登录失败");
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        escape(title),
        escape(explanation(err, lang))
    );
    if let RequestError::Restartable { restart, .. } = err {
        // The page that started the login, without any result parameter it may carry.
        let href = result_url(restart, ResponseMode::Query, &[]);
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"{}\">{}</a></p>",
            escape(&href),
            escape(lang.pick("Log in again", "重新登录"))
        ));
    }
    body.push_str(&format!(
        "<p class=\"detail\"><code>{}</code> {}</p>",
        escape(err.code()),
        escape(&err.description())
    ));
    html::page(lang, title, &body)
}

/// What happened, for the visitor.
fn explanation(err: &RequestError, lang: Lang) -> &'static str {
    use RequestError as E;
    use StateProblem as S;
    let state = |problem: &StateProblem| match problem {
        S::Malformed => (
            "This login link is incomplete or was changed. Go back to the page you came from and log in again.",
            "这个登录链接不完整或已被改动。请回到原来的页面重新登录。",
        ),
        S::Unknown => (
            "We do not know this login: it may be too old and already cleared, or the link did not come from this service. Go back to the page you came from and log in again.",
            "找不到这次登录：它可能已过期并被清理，或者这个链接不是本服务发出的。请回到原来的页面重新登录。",
        ),
        S::Completed => (
            "This login was already completed. To log in once more, start again.",
            "这次登录已经完成。如需再次登录，请重新开始。",
        ),
        S::Expired => (
            "This login took too long and has expired. Please log in again.",
            "这次登录等待时间过长，已经过期。请重新登录。",
        ),
        S::WrongRoute => (
            "This login came back to the wrong address. Please log in again.",
            "这次登录返回的地址不对。请重新登录。",
        ),
        S::OtherBrowser => (
            "This login was started in another browser or app. Please log in again here.",
            "这次登录是在另一个浏览器或应用里开始的。请在这里重新登录。",
        ),
        S::AppRemoved => (
            "The WeChat app this login was started with is no longer in use. Go back to the page you came from and log in again.",
            "这次登录所用的微信应用已停用。请回到原来的页面重新登录。",
        ),
        S::ReturnUrlNotAllowed => (
            "The site this login should return to is no longer allowed. Please contact the site's operator.",
            "这次登录要返回的网站已不再被允许。请联系网站的运营者。",
        ),
    };
    let (en, zh) = match err {
        E::State(problem) | E::Restartable { problem, .. } => state(problem),
        E::Store(StoreError::Unavailable(_)) => (
            "The login service is busy right now. Please try again in a moment.",
            "登录服务暂时繁忙，请稍后再试。",
        ),
        E::Store(_) | E::NoBaseUrl => (
            "The login service is not set up correctly. Please contact the site's operator.",
            "登录服务的配置有误。请联系网站的运营者。",
        ),
        E::NotFound => ("There is no such page.", "没有这个页面。"),
        E::MethodNotAllowed(_) => (
            "This address does not accept this kind of request.",
            "这个地址不接受这种请求。",
        ),
        E::UnknownClient | E::RedirectUriNotRegistered => (
            "The application that sent you here is not registered with this login service. Please contact its operator.",
            "把您带到这里的应用没有在本登录服务登记。请联系该应用的运营者。",
        ),
        E::NoQrApp => (
            "This site can only log you in with WeChat inside the WeChat app. Open this page in WeChat and try again.",
            "本网站只能在微信内登录。请在微信中打开这个页面后重试。",
        ),
        E::Query(_)
        | E::Missing(_)
        | E::ReturnUrl(_)
        | E::Scope
        | E::AutoScope
        | E::UnknownApp
        | E::ScopeNotForApp { .. }
        | E::AutoNeedsOfficialAccount
        | E::ResponseMode
        | E::ResponseModeNotAllowed { .. }
        | E::Nonce
        | E::ResponseTypeOnAuth
        | E::FormBody(_) => (
            "The page that sent you here made a request this login service cannot accept. Please contact the site's operator.",
            "把您带到这里的网页发出了无法接受的登录请求。请联系网站的运营者。",
        ),
    };
    match lang {
        Lang::En => en,
        Lang::ZhCn => zh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_origins::AllowedOrigins;
    use crate::return_url::ReturnUrl;

    #[test]
    fn pages_speak_the_visitors_language_and_offer_the_way_back() {
        let origins = AllowedOrigins::parse("https://app.example.com").unwrap();
        let restart = ReturnUrl::parse(
            "https://app.example.com/shop?item=%221%22&token=OLD&openid=X#/cart",
            &origins,
        )
        .unwrap();
        let err = RequestError::Restartable {
            problem: StateProblem::Expired,
            restart: Box::new(restart),
        };
        let zh = render(&err, Lang::ZhCn);
        assert!(zh.contains("<html lang=\"zh-CN\">"), "{zh}");
        assert!(zh.contains("登录失败") && zh.contains("已经过期") && zh.contains("重新登录"));
        // The way back drops earlier results and is escaped.
        assert!(
            zh.contains("href=\"https://app.example.com/shop?item=%221%22#/cart\""),
            "{zh}"
        );
        let en = render(&err, Lang::En);
        assert!(en.contains("<html lang=\"en\">") && en.contains("Log in again"));
        assert!(en.contains("<code>invalid_state</code>"));
        let plain = render(&StateProblem::Unknown.into(), Lang::ZhCn);
        assert!(plain.contains("找不到这次登录") && !plain.contains("重新登录</a>"));
    }
}
