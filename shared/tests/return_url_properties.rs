//! Property tests: whatever string an attacker sends as `url`, an accepted one has, as a
//! WHATWG parser reads it, an origin on the allowlist; and the result URL built from it
//! keeps that origin and carries our parameters exactly once.

use proptest::prelude::*;
use url::Url;
use wxauth_core::hostname::is_dns_hostname;
use wxauth_core::redirect::result_url::{RESERVED_PARAMS, result_url};
use wxauth_core::return_url::MAX_RETURN_URL_LEN;
use wxauth_core::{AllowedOrigins, ResponseMode, ReturnUrl};

const ALLOWED: &str = "https://app.example.com,https://*.shop.example.com,http://127.0.0.1:8080";

/// An oracle written independently of `AllowedOrigins`: the origin strings we mean.
fn origin_is_allowed(url: &Url) -> bool {
    let origin = url.origin().ascii_serialization();
    if origin == "https://app.example.com" || origin == "http://127.0.0.1:8080" {
        return true;
    }
    origin
        .strip_prefix("https://")
        .and_then(|host| host.strip_suffix(".shop.example.com"))
        .is_some_and(|label| !label.is_empty() && !label.contains([':', '/']))
}

fn pieces() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("https://".to_owned()),
        Just("http://".to_owned()),
        Just("HTTPS://".to_owned()),
        Just("//".to_owned()),
        Just("app.example.com".to_owned()),
        Just("APP.example.com".to_owned()),
        Just("x.shop.example.com".to_owned()),
        Just("shop.example.com".to_owned()),
        Just("127.0.0.1".to_owned()),
        Just("0x7f.1".to_owned()),
        Just("evil.com".to_owned()),
        Just("xn--pp-8cd".to_owned()),
        Just(":8080".to_owned()),
        Just(":443".to_owned()),
        Just(":".to_owned()),
        Just("@".to_owned()),
        Just("\\".to_owned()),
        Just("/".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("?".to_owned()),
        Just("#".to_owned()),
        Just("&".to_owned()),
        Just("=".to_owned()),
        Just("%".to_owned()),
        Just("%2e".to_owned()),
        Just("%40".to_owned()),
        Just("%2F".to_owned()),
        Just("%00".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\n".to_owned()),
        Just("。".to_owned()),
        Just("ａ".to_owned()),
        Just("[::1]".to_owned()),
        Just("*".to_owned()),
        Just("'".to_owned()),
        Just("_".to_owned()),
        Just("-".to_owned()),
        Just("a..b".to_owned()),
        Just("openid=VICTIM".to_owned()),
        "[a-z0-9]{1,6}",
        any::<char>().prop_map(String::from),
    ]
}

fn attacker_url() -> impl Strategy<Value = String> {
    let start = prop_oneof![
        Just("https://app.example.com".to_owned()),
        Just("https://a.shop.example.com".to_owned()),
        Just("http://127.0.0.1:8080".to_owned()),
        Just("https://".to_owned()),
        Just("http://".to_owned()),
        Just(String::new()),
    ];
    (start, prop::collection::vec(pieces(), 0..10)).prop_map(|(s, rest)| s + &rest.concat())
}

const PATH_ENTRIES: &str = "https://app.example.com/app/,https://app.example.com/cb";

fn path_attacker_url() -> impl Strategy<Value = String> {
    let start = prop_oneof![
        Just("https://app.example.com/app/".to_owned()),
        Just("https://app.example.com/app".to_owned()),
        Just("https://app.example.com/cb".to_owned()),
        Just("https://app.example.com/".to_owned()),
        Just("https://app.example.com".to_owned()),
    ];
    (start, prop::collection::vec(pieces(), 0..8)).prop_map(|(s, rest)| s + &rest.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn accepted_urls_have_an_allowed_origin_as_a_browser_reads_them(raw in attacker_url()) {
        let allowed = AllowedOrigins::parse(ALLOWED).unwrap();
        if let Ok(return_url) = ReturnUrl::parse(&raw, &allowed) {
            let browser = Url::parse(&raw).expect("accepted URLs parse");
            prop_assert!(origin_is_allowed(&browser), "{raw} → {}", browser.origin().ascii_serialization());
            prop_assert_eq!(browser.as_str(), return_url.as_str());
            prop_assert!(browser.username().is_empty() && browser.password().is_none());
            // The host is a DNS name (or the one IP literal the list names), never
            // something like `a..x.shop.example.com` or `*.shop.example.com`.
            match browser.host() {
                Some(url::Host::Domain(d)) => prop_assert!(is_dns_hostname(d), "{raw}"),
                Some(url::Host::Ipv4(ip)) => prop_assert_eq!(ip.to_string(), "127.0.0.1"),
                other => prop_assert!(false, "{raw} has host {other:?}"),
            }
            prop_assert!(return_url.as_str().len() <= MAX_RETURN_URL_LEN);
            // Stored and read back, it is the same URL.
            prop_assert_eq!(ReturnUrl::from_stored(return_url.as_str()).unwrap(), return_url.clone());

            for mode in [ResponseMode::Query, ResponseMode::Fragment, ResponseMode::FormPost] {
                let built = result_url(&return_url, mode, &[("openid", "oX"), ("error", "e&=#")]);
                let parsed = Url::parse(&built).expect("result URLs parse");
                prop_assert_eq!(parsed.origin(), browser.origin());
                prop_assert_eq!(parsed.path(), browser.path());
                let params: Vec<(String, String)> = match mode {
                    ResponseMode::Query | ResponseMode::FormPost => parsed.query_pairs().into_owned().collect(),
                    ResponseMode::Fragment => {
                        let f = parsed.fragment().unwrap_or("");
                        let q = f.split_once('?').map_or(f, |(_, q)| q);
                        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
                    }
                };
                for name in RESERVED_PARAMS {
                    // form_post carries the values in the body: the URL keeps none of them.
                    let expected = match (name, mode) {
                        (_, ResponseMode::FormPost) => vec![],
                        ("openid", _) => vec!["oX"],
                        ("error", _) => vec!["e&=#"],
                        _ => vec![],
                    };
                    let found: Vec<&str> = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
                    prop_assert_eq!(found, expected, "{} in {}", name, built);
                }
            }
        }
    }

    /// Under path entries, an accepted URL's path, as a browser reads it, is under the
    /// prefix or is the exact path, and holds no encoded slash under the prefix.
    #[test]
    fn accepted_urls_under_path_entries_keep_to_their_paths(raw in path_attacker_url()) {
        let allowed = AllowedOrigins::parse(PATH_ENTRIES).unwrap();
        if ReturnUrl::parse(&raw, &allowed).is_ok() {
            let browser = Url::parse(&raw).expect("accepted URLs parse");
            prop_assert_eq!(browser.origin().ascii_serialization(), "https://app.example.com");
            let path = browser.path();
            let lower = path.to_ascii_lowercase();
            let under_prefix = path.starts_with("/app/") && !lower.contains("%2f") && !lower.contains("%5c");
            prop_assert!(under_prefix || path == "/cb", "{raw} has path {path}");
            prop_assert!(!path.split('/').any(|s| s == ".." || s == "."), "{raw}");
        }
    }

    #[test]
    fn parsing_never_panics_on_arbitrary_input(raw in any::<String>()) {
        let allowed = AllowedOrigins::parse(ALLOWED).unwrap();
        let _ = ReturnUrl::parse(&raw, &allowed);
        let _ = AllowedOrigins::parse(&raw);
        let _ = wxauth_core::query::parse_query(Some(&raw), &["url", "scope"]);
    }
}

/// How many of 2,000 URLs `strategy` generates (deterministically) `list` accepts.
fn accepted_of_2000(list: &str, strategy: impl Strategy<Value = String>) -> usize {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let allowed = AllowedOrigins::parse(list).unwrap();
    let mut runner = TestRunner::deterministic();
    (0..2000)
        .filter(|_| {
            let raw = strategy.new_tree(&mut runner).unwrap().current();
            ReturnUrl::parse(&raw, &allowed).is_ok()
        })
        .count()
}

/// The path property is only worth something if its generator reaches accepted URLs and
/// refused ones alike.
#[test]
fn the_path_generator_produces_accepted_and_refused_urls() {
    let accepted = accepted_of_2000(PATH_ENTRIES, path_attacker_url());
    assert!(
        (50..1950).contains(&accepted),
        "{accepted} of 2000 accepted"
    );
}

/// The property above is only worth something if the generator reaches accepted URLs.
#[test]
fn the_generator_produces_accepted_urls_too() {
    let accepted = accepted_of_2000(ALLOWED, attacker_url());
    assert!(
        accepted > 50,
        "only {accepted} of 2000 generated URLs were accepted"
    );
}
