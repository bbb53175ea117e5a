//! Strict query-string reading: every input is hostile, so malformed encodings and repeated
//! parameters are refused instead of being guessed at.

use std::collections::HashMap;

/// Larger query strings are refused before any decoding (a 5,000-character return URL
/// percent-encodes to well under this).
pub const MAX_QUERY_BYTES: usize = 16 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    #[error("the query string is longer than {MAX_QUERY_BYTES} bytes")]
    TooLong,
    #[error("the query string has invalid percent-encoding")]
    BadPercentEncoding,
    #[error("the query string is not valid UTF-8 once decoded")]
    NotUtf8,
    #[error("the parameter `{0}` appears more than once")]
    Repeated(&'static str),
}

/// The decoded values of the `known` parameters; others are ignored.
pub fn parse_query(
    raw: Option<&str>,
    known: &[&'static str],
) -> Result<HashMap<&'static str, String>, QueryError> {
    let raw = raw.unwrap_or("");
    if raw.len() > MAX_QUERY_BYTES {
        return Err(QueryError::TooLong);
    }
    let mut found = HashMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        let Some(&known_name) = known.iter().find(|k| **k == name) else {
            continue;
        };
        if found.insert(known_name, decode(value)?).is_some() {
            return Err(QueryError::Repeated(known_name));
        }
    }
    Ok(found)
}

/// The known parameters of a query string and a form body together (an authorization
/// request by POST, OpenID Connect Core §3.1.2.1). A parameter given in both is
/// `Repeated`: RFC 6749 §3.1 allows none more than once, and neither place may override
/// the other.
pub fn parse_query_and_form(
    query: Option<&str>,
    form: Option<&str>,
    known: &[&'static str],
) -> Result<HashMap<&'static str, String>, QueryError> {
    let mut found = parse_query(query, known)?;
    for (name, value) in parse_query(form, known)? {
        if found.insert(name, value).is_some() {
            return Err(QueryError::Repeated(name));
        }
    }
    Ok(found)
}

/// `application/x-www-form-urlencoded` decoding that fails on `%` not followed by two hex
/// digits and on bytes that are not UTF-8.
fn decode(text: &str) -> Result<String, QueryError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .ok_or(QueryError::BadPercentEncoding)?;
                let hex = std::str::from_utf8(hex).map_err(|_| QueryError::BadPercentEncoding)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(QueryError::BadPercentEncoding);
                }
                out.push(u8::from_str_radix(hex, 16).map_err(|_| QueryError::BadPercentEncoding)?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| QueryError::NotUtf8)
}

/// Whether a `Content-Type` names a form body (`application/x-www-form-urlencoded`, any
/// parameters after it, any case).
pub fn is_form(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|t| t.split(';').next())
        .is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_known_parameters() {
        let q = parse_query(
            Some("url=https%3A%2F%2Fa.example.com%2F%3Fx%3D1&scope=snsapi_base&other=%zz&&x"),
            &["url", "scope", "response_mode"],
        );
        let q = q.unwrap();
        assert_eq!(q["url"], "https://a.example.com/?x=1");
        assert_eq!(q["scope"], "snsapi_base");
        assert!(!q.contains_key("response_mode"));
        assert!(parse_query(None, &["url"]).unwrap().is_empty());
        assert_eq!(
            parse_query(Some("code=a+b"), &["code"]).unwrap()["code"],
            "a b"
        );
        assert_eq!(parse_query(Some("code"), &["code"]).unwrap()["code"], "");
        assert_eq!(
            parse_query(Some("c%6Fde=1"), &["code"]).unwrap()["code"],
            "1"
        );
    }

    #[test]
    fn refuses_hostile_query_strings() {
        let known = &["url", "state"];
        assert_eq!(
            parse_query(Some("url=%"), known),
            Err(QueryError::BadPercentEncoding)
        );
        assert_eq!(
            parse_query(Some("url=%4"), known),
            Err(QueryError::BadPercentEncoding)
        );
        assert_eq!(
            parse_query(Some("url=%g1"), known),
            Err(QueryError::BadPercentEncoding)
        );
        assert_eq!(
            parse_query(Some("url=%ff%fe"), known),
            Err(QueryError::NotUtf8)
        );
        assert_eq!(
            parse_query(Some("state=a&state=b"), known),
            Err(QueryError::Repeated("state"))
        );
        assert_eq!(
            parse_query(Some("state=a&st%61te=b"), known),
            Err(QueryError::Repeated("state"))
        );
        let long = format!("url={}", "a".repeat(MAX_QUERY_BYTES));
        assert_eq!(parse_query(Some(&long), known), Err(QueryError::TooLong));
    }

    mod properties {
        use std::collections::HashMap;

        use proptest::prelude::*;

        use super::*;

        const KNOWN: [&str; 3] = ["url", "scope", "response_mode"];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            /// What a browser or an HTTP library encodes (`+` or `%20` for spaces, any
            /// Unicode), among parameters we do not know, reads back exactly.
            #[test]
            fn encoded_parameters_read_back_exactly(
                values in prop::collection::vec(proptest::option::of(any::<String>()), 3),
                unknown in prop::collection::vec(("[a-z_]{1,8}", any::<String>()), 0..4),
                plus_for_space in any::<bool>(),
            ) {
                let mut pairs: Vec<(String, String)> = Vec::new();
                let mut expected = HashMap::new();
                for (name, value) in KNOWN.iter().zip(&values) {
                    if let Some(value) = value {
                        pairs.push(((*name).to_owned(), value.clone()));
                        expected.insert(*name, value.clone());
                    }
                }
                for (name, value) in unknown.into_iter().filter(|(n, _)| !KNOWN.contains(&n.as_str())) {
                    pairs.insert(pairs.len() / 2, (name, value));
                }
                let query: String = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&pairs)
                    .finish();
                let query = if plus_for_space { query } else { query.replace('+', "%20") };
                prop_assume!(query.len() <= MAX_QUERY_BYTES);
                prop_assert_eq!(parse_query(Some(&query), &KNOWN), Ok(expected));
            }

            /// A known parameter given twice is refused, whatever the values.
            #[test]
            fn a_repeated_known_parameter_is_refused(a in any::<String>(), b in any::<String>()) {
                let query: String = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([("scope", a), ("x", "y".to_owned()), ("scope", b)])
                    .finish();
                prop_assume!(query.len() <= MAX_QUERY_BYTES);
                prop_assert_eq!(parse_query(Some(&query), &KNOWN), Err(QueryError::Repeated("scope")));
            }
        }
    }

    #[test]
    fn a_parameter_in_both_the_query_and_the_form_is_repeated() {
        let known = &["client_id", "scope", "state"];
        let both = parse_query_and_form(Some("client_id=rp"), Some("scope=openid&x=1"), known);
        let both = both.unwrap();
        assert_eq!(
            (both["client_id"].as_str(), both["scope"].as_str()),
            ("rp", "openid")
        );
        assert_eq!(
            parse_query_and_form(Some("state=a"), Some("st%61te=a"), known),
            Err(QueryError::Repeated("state"))
        );
        // An unknown parameter may come in both: it is read nowhere.
        assert!(parse_query_and_form(Some("x=1"), Some("x=2"), known).is_ok());
        assert_eq!(
            parse_query_and_form(None, Some("scope=a&scope=b"), known),
            Err(QueryError::Repeated("scope"))
        );
        assert_eq!(
            parse_query_and_form(None, Some("scope=%zz"), known),
            Err(QueryError::BadPercentEncoding)
        );
    }

    #[test]
    fn a_form_body_is_named_by_its_content_type_alone() {
        for form in [
            "application/x-www-form-urlencoded",
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
            " application/x-www-form-urlencoded ;",
        ] {
            assert!(is_form(Some(form)), "{form}");
        }
        for other in [
            "application/json",
            "text/plain",
            "application/x-www-form-urlencodedx",
            "",
        ] {
            assert!(!is_form(Some(other)), "{other}");
        }
        assert!(!is_form(None));
    }
}
