//! The URL the user is sent back to: the stored return URL with the login's result added.

use crate::return_url::ReturnUrl;
use crate::scope::ResponseMode;

/// Every parameter name wxauth may set. They are removed from the return URL before ours
/// are added, so a crafted `?openid=VICTIM` or `#error=x` cannot ride along.
pub const RESERVED_PARAMS: [&str; 13] = [
    "openid",
    "unionid",
    "is_snapshotuser",
    "token",
    "nickname",
    "sex",
    "province",
    "city",
    "country",
    "headimgurl",
    "error",
    "error_description",
    "wx_errcode",
];

/// The return URL with `params` in its query (`Query`) or its fragment (`Fragment`,
/// hash-router style: `#/home` becomes `#/home?k=v`). Path, other parameters and the
/// fragment are kept as they were. `FormPost` sends the values in the body, so the URL
/// only loses the reserved names.
pub fn result_url(return_url: &ReturnUrl, mode: ResponseMode, params: &[(&str, &str)]) -> String {
    let params = if mode == ResponseMode::FormPost {
        &[][..]
    } else {
        params
    };
    let raw = return_url.as_str();
    let (before_hash, fragment) = match raw.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (raw, None),
    };
    let (base, query) = match before_hash.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (before_hash, None),
    };
    let ours = encode(params);
    let query = query.map(strip_reserved);
    let fragment = fragment.map(|f| {
        let (prefix, fragment_query) = split_fragment(f);
        (prefix, fragment_query.map(strip_reserved))
    });

    let mut out = String::with_capacity(raw.len() + ours.len() + 2);
    out.push_str(base);
    let query = match mode {
        ResponseMode::Query | ResponseMode::FormPost => join(query.as_deref(), &ours),
        ResponseMode::Fragment => query.unwrap_or_default(),
    };
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query);
    }
    match (mode, fragment) {
        (ResponseMode::Query | ResponseMode::FormPost, None) => {}
        (ResponseMode::Query | ResponseMode::FormPost, Some((prefix, fragment_query))) => {
            out.push('#');
            out.push_str(prefix);
            if let Some(q) = fragment_query.filter(|q| !q.is_empty()) {
                if !prefix.is_empty() {
                    out.push('?');
                }
                out.push_str(&q);
            }
        }
        (ResponseMode::Fragment, fragment) => {
            let (prefix, fragment_query) = fragment.unwrap_or(("", None));
            out.push('#');
            out.push_str(prefix);
            if !prefix.is_empty() {
                out.push('?');
            }
            out.push_str(&join(fragment_query.as_deref(), &ours));
        }
    }
    out
}

/// Splits a fragment into its route and its parameters: `/home?x=1` → (`/home`, `x=1`);
/// `x=1&y=2` → (``, `x=1&y=2`); `/home` or `section` → (that, none).
fn split_fragment(fragment: &str) -> (&str, Option<&str>) {
    if let Some((prefix, query)) = fragment.split_once('?') {
        (prefix, Some(query))
    } else if fragment.contains('=') && !fragment.starts_with('/') {
        ("", Some(fragment))
    } else {
        (fragment, None)
    }
}

fn strip_reserved(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let key = form_urlencoded::parse(pair.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            !RESERVED_PARAMS.contains(&key.as_str())
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn join(existing: Option<&str>, ours: &str) -> String {
    match existing {
        Some(e) if !e.is_empty() && !ours.is_empty() => format!("{e}&{ours}"),
        Some(e) if !e.is_empty() => e.to_owned(),
        _ => ours.to_owned(),
    }
}

fn encode(params: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_origins::AllowedOrigins;

    fn build(url: &str, mode: ResponseMode, params: &[(&str, &str)]) -> String {
        let origins = AllowedOrigins::parse("https://app.example.com").unwrap();
        result_url(&ReturnUrl::parse(url, &origins).unwrap(), mode, params)
    }

    const OURS: &[(&str, &str)] = &[("openid", "o1"), ("token", "t.t.t")];

    #[test]
    fn query_mode_appends_and_keeps_the_rest() {
        let q = ResponseMode::Query;
        assert_eq!(
            build("https://app.example.com/", q, OURS),
            "https://app.example.com/?openid=o1&token=t.t.t"
        );
        assert_eq!(
            build("https://app.example.com/p/a?x=1&y=%20#/route?z=2", q, OURS),
            "https://app.example.com/p/a?x=1&y=%20&openid=o1&token=t.t.t#/route?z=2"
        );
        assert_eq!(
            build("https://app.example.com/?#frag", q, OURS),
            "https://app.example.com/?openid=o1&token=t.t.t#frag"
        );
    }

    #[test]
    fn reserved_names_are_removed_everywhere_before_ours_are_added() {
        assert_eq!(
            build(
                "https://app.example.com/?openid=VICTIM&a=1&error=x&open%69d=V2&token&sex=9#openid=V3&b=2",
                ResponseMode::Query,
                OURS
            ),
            "https://app.example.com/?a=1&openid=o1&token=t.t.t#b=2"
        );
        assert_eq!(
            build(
                "https://app.example.com/?openid=VICTIM#/home?nickname=Evil&x=1",
                ResponseMode::Fragment,
                OURS
            ),
            "https://app.example.com/#/home?x=1&openid=o1&token=t.t.t"
        );
    }

    #[test]
    fn fragment_mode_merges_hash_router_style() {
        let f = ResponseMode::Fragment;
        assert_eq!(
            build("https://app.example.com/", f, OURS),
            "https://app.example.com/#openid=o1&token=t.t.t"
        );
        assert_eq!(
            build("https://app.example.com/#/home", f, OURS),
            "https://app.example.com/#/home?openid=o1&token=t.t.t"
        );
        assert_eq!(
            build("https://app.example.com/?q=1#/home?x=1", f, OURS),
            "https://app.example.com/?q=1#/home?x=1&openid=o1&token=t.t.t"
        );
        assert_eq!(
            build("https://app.example.com/#a=1", f, OURS),
            "https://app.example.com/#a=1&openid=o1&token=t.t.t"
        );
        assert_eq!(
            build("https://app.example.com/?openid=x#", f, OURS),
            "https://app.example.com/#openid=o1&token=t.t.t"
        );
    }

    #[test]
    fn form_post_only_cleans_the_url() {
        assert_eq!(
            build(
                "https://app.example.com/cb?openid=VICTIM&a=1#x",
                ResponseMode::FormPost,
                OURS
            ),
            "https://app.example.com/cb?a=1#x"
        );
        assert_eq!(
            build(
                "https://app.example.com/cb?token=x",
                ResponseMode::FormPost,
                OURS
            ),
            "https://app.example.com/cb"
        );
    }

    #[test]
    fn values_are_percent_encoded() {
        assert_eq!(
            build(
                "https://app.example.com/",
                ResponseMode::Query,
                &[("nickname", "小明 &#=?+")]
            ),
            "https://app.example.com/?nickname=%E5%B0%8F%E6%98%8E+%26%23%3D%3F%2B"
        );
    }
}
