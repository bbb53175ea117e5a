//! `response_mode=form_post`: a page that POSTs the result to the return URL, so nothing
//! personal lands in URLs, browser history or access logs (as in OAuth 2.0 Form Post
//! Response Mode).

use crate::html::escape;

/// The page and the Content-Security-Policy that lets exactly its one script run.
pub fn form_post_page(
    action: &str,
    action_origin: &str,
    fields: &[(String, String)],
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
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Signing you in…</title></head><body>\
         <form method=\"post\" action=\"{action}\">{inputs}\
         <noscript><p>JavaScript is off: continue to the site yourself.</p>\
         <button type=\"submit\">Continue</button></noscript></form>\
         <script nonce=\"{nonce}\">document.forms[0].submit();</script>\
         </body></html>\n",
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
        let (_, other) = form_post_page("https://a/", "https://a", &fields);
        assert_ne!(csp, other, "a fresh nonce each time");
    }
}
