//! The pages a user sees in WeChat's (or a desktop) browser. Every interpolated value
//! goes through `escape`; every link is relative so the pages keep working
//! when the router is nested under a prefix.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Header naming the error on an error page, so tests need not scrape HTML.
pub(crate) const ERROR_HEADER: &str = "x-wechat-sim-error";

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;min-height:100vh;background:#ededed;font:16px/1.5 -apple-system,"PingFang SC","Helvetica Neue",sans-serif;color:#111;display:flex;flex-direction:column;justify-content:flex-end}
.sheet{background:#fff;border-radius:16px 16px 0 0;padding:24px 24px 32px;max-width:480px;width:100%;margin:0 auto;box-shadow:0 -2px 12px rgba(0,0,0,.06)}
.app{display:flex;align-items:center;gap:10px;font-weight:600}
.logo{width:32px;height:32px;border-radius:8px;background:#07c160;color:#fff;display:flex;align-items:center;justify-content:center;font-size:14px}
h1{font-size:20px;margin:20px 0 8px}
p{color:#555;margin:0 0 16px}
.scope{border-top:1px solid #eee;border-bottom:1px solid #eee;padding:12px 0;margin:16px 0}
label{display:block;font-size:13px;color:#888}
input[type=text]{width:100%;font:inherit;padding:8px 10px;margin-top:4px;border:1px solid #ddd;border-radius:8px}
.buttons{display:flex;flex-direction:row-reverse;gap:12px;margin-top:24px}
button{flex:1;font:inherit;font-weight:600;padding:12px;border:0;border-radius:8px;cursor:pointer}
.allow{background:#07c160;color:#fff}
.deny{background:#f2f2f2;color:#07c160}
.error{text-align:center;padding-top:48px}
.code{font-family:ui-monospace,Menlo,monospace;color:#888}
.app span{overflow-wrap:anywhere;min-width:0}
.app .logo{flex:none}
.sheet.qr{margin:auto;border-radius:16px;text-align:center}
.qr .app{justify-content:center}
.qr label{text-align:left}
.qrcode{width:100%;max-width:220px;margin:8px auto 16px;padding:8px;border:1px solid #eee;border-radius:8px}
.qrcode svg{display:block;width:100%;height:auto}
.qr .buttons{flex-direction:column}
.qr button{flex:none}
.hint{font-size:13px;color:#888;margin:8px 0 0}
"#;

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        escape(title)
    )
}

pub(crate) fn html_response(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// An authorize-page error: WeChat shows it to the user (HTTP 200) and never
/// calls the redirect_uri back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PageError {
    /// WeChat's documented code (10003, 10005, …); `None` for a plain 参数错误,
    /// for which WeChat documents no number.
    pub(crate) code: Option<i64>,
    /// Short machine-readable name, sent in `x-wechat-sim-error` when there is no code.
    pub(crate) kind: &'static str,
    pub(crate) message: String,
}

impl PageError {
    pub(crate) fn coded(code: i64, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: Some(code),
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn uncoded(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: None,
            kind,
            message: message.into(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let label = match self.code {
            Some(code) => code.to_string(),
            None => self.kind.to_owned(),
        };
        let body = format!(
            "<main class=\"sheet error\">\n<h1>Oops! Something went wrong :(</h1>\n\
             <p>{}</p>\n<p class=\"code\">错误码 / errcode: {}</p>\n</main>",
            escape(&self.message),
            escape(&label)
        );
        let mut response = html_response(StatusCode::OK, page("微信授权错误", &body));
        if let Ok(value) = HeaderValue::from_str(&label) {
            response.headers_mut().insert(ERROR_HEADER, value);
        }
        response
    }
}

/// Everything a login page's form must carry over to its `/confirm` step.
pub(crate) struct ConsentForm<'a> {
    pub(crate) appid: &'a str,
    pub(crate) redirect_uri: &'a str,
    pub(crate) response_type: &'a str,
    pub(crate) scope: &'a str,
    pub(crate) state: Option<&'a str>,
    pub(crate) sim_user: &'a str,
}

impl ConsentForm<'_> {
    /// The request's parameters as hidden inputs (the user field is visible, so not here).
    pub(crate) fn hidden_fields(&self) -> String {
        let hidden = |name: &str, value: &str| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(name),
                escape(value)
            )
        };
        let mut fields = String::new();
        fields.push_str(&hidden("appid", self.appid));
        fields.push_str(&hidden("redirect_uri", self.redirect_uri));
        fields.push_str(&hidden("response_type", self.response_type));
        fields.push_str(&hidden("scope", self.scope));
        if let Some(state) = self.state {
            fields.push_str(&hidden("state", state));
        }
        fields
    }
}

pub(crate) fn consent_page(form: &ConsentForm<'_>) -> Response {
    let fields = form.hidden_fields();
    // "Allow" comes first in the markup so pressing Enter in the user field
    // allows; `row-reverse` still shows it on the right like WeChat's sheet.
    let body = format!(
        "<main class=\"sheet\">\n\
         <div class=\"app\"><span class=\"logo\">W</span><span>{appid}</span></div>\n\
         <h1>申请获取以下权限</h1>\n\
         <div class=\"scope\">获得你的公开信息（昵称、头像、地区及性别）<br>\
         This page requests your nickname, avatar, region and sex.</div>\n\
         <form method=\"get\" action=\"authorize/confirm\">\n{fields}\
         <label>WeChat user (simulator)\
         <input type=\"text\" name=\"sim_user\" value=\"{user}\" autocomplete=\"off\"></label>\n\
         <div class=\"buttons\">\n\
         <button type=\"submit\" name=\"decision\" value=\"allow\" class=\"allow\">允许 Allow</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"deny\">拒绝 Deny</button>\n\
         </div>\n</form>\n</main>",
        appid = escape(form.appid),
        user = escape(form.sim_user),
    );
    html_response(StatusCode::OK, page("微信授权", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
