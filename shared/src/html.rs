//! Minimal HTML for error pages: every echoed value goes through [`escape`].

use crate::lang::Lang;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// A small standalone page in `lang`; `body_html` must already be escaped.
pub fn page(lang: Lang, title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:36em;\
         margin:3em auto;padding:0 1em;color:#222;line-height:1.5}}\
         code{{background:#f3f3f3;padding:0 .2em;word-break:break-all}}\
         .button{{display:inline-block;padding:.6em 1.2em;border-radius:6px;background:#07c160;\
         color:#fff;text-decoration:none}}.detail{{color:#666;font-size:.85em}}\
         </style></head><body>{body_html}</body></html>\n",
        lang = lang.tag(),
        title = escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x&'y")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;&#x27;y&quot;)&lt;/script&gt;"
        );
        assert!(page(Lang::En, "<b>", "").contains("<title>&lt;b&gt;</title>"));
    }
}
