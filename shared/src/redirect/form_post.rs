//! `response_mode=form_post`: a page that POSTs the result to the return URL, so nothing
//! personal lands in URLs, browser history or access logs (as in OAuth 2.0 Form Post
//! Response Mode).

use crate::html::escape;
use crate::lang::Lang;

/// The page and the Content-Security-Policy that lets exactly its one script run.
pub fn form_post_page(
    action: &str,
    action_origin: &str,
    fields: &[(String, String)],
    lang: Lang,
) -> (String, String) {
    let nonce = crate::login_state::StateId::generate();
    let nonce = nonce.as_str();
    let inputs: String = fields
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            )
        })
        .collect();
    let page = format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title></head><body>\
         <form method=\"post\" action=\"{action}\">{inputs}\
         <noscript><p>{noscript}</p>\
         <button type=\"submit\">{button}</button></noscript></form>\
         <script nonce=\"{nonce}\">document.forms[0].submit();</script>\
         </body></html>\n",
        lang = lang.tag(),
        title = lang.pick("Signing you in…", "正在登录…"),
        noscript = lang.pick(
            "JavaScript is off: continue to the site yourself.",
            "浏览器没有启用 JavaScript：请点击继续，返回网站。"
        ),
        button = lang.pick("Continue", "继续"),
        action = escape(action),
    );
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; form-action {action_origin}; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    (page, csp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_only_the_nonced_script_may_run() {
        let fields = vec![
            ("openid".to_owned(), "o1".to_owned()),
            (
                "nickname".to_owned(),
                "\"><script>alert(1)</script>".to_owned(),
            ),
        ];
        let (page, csp) = form_post_page(
            "https://app.example.com/cb?a=1&b=2",
            "https://app.example.com",
            &fields,
            Lang::En,
        );
        assert!(page.contains("action=\"https://app.example.com/cb?a=1&amp;b=2\""));
        assert!(page.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""));
        assert_eq!(page.matches("<script").count(), 1);
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap();
        assert!(page.contains(&format!("<script nonce=\"{nonce}\">")));
        assert!(csp.contains("form-action https://app.example.com;"));
        assert!(page.contains("<noscript>"));
        let (chinese, other) = form_post_page("https://a/", "https://a", &fields, Lang::ZhCn);
        assert_ne!(csp, other, "a fresh nonce each time");
        assert!(chinese.contains("<html lang=\"zh-CN\">") && chinese.contains(">继续</button>"));
    }
}
