//! What a host name in a return URL or an allowlist rule may look like.
//!
//! The WHATWG URL parser (what browsers use, and the `url` crate) accepts far more as a
//! "domain" than DNS can ever resolve: empty labels (`a..example.net`), `*`, `'`, `_`,
//! `!` and friends. A wildcard rule compares only the suffix, so such names slipped
//! through under `*.example.net`. None of them can be a real site, and a name that is not
//! a real site has no business receiving a login; only RFC 1123 host names pass.

/// The longest host name DNS can carry (RFC 1035: 255 octets on the wire, 253 as text).
pub const MAX_HOSTNAME_LEN: usize = 253;
/// The longest label DNS allows (RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;

/// Whether `name` is a host name as DNS and browsers agree on it, in the lowercase
/// ASCII form the URL parser gives back: dot-separated labels of `a-z`, `0-9` and `-`,
/// 1 to 63 characters each, no label starting or ending with `-`, no empty label (so no
/// leading, trailing or double dot), at most 253 characters. International names pass
/// only as punycode (`xn--…`), which is what the parser turns them into anyway.
pub fn is_dns_hostname(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_HOSTNAME_LEN && name.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_host_names_pass() {
        for ok in [
            "example.com",
            "a.example.net",
            "x-1.example.net",
            "localhost",
            "xn--fiqs8s.example.com",
            "123.example.com",
            "a",
        ] {
            assert!(is_dns_hostname(ok), "{ok}");
        }
    }

    #[test]
    fn what_the_fuzzer_found_is_refused() {
        for bad in [
            "a..example.net",
            "x-1....example.net",
            "de..ep.'a.example.net",
            "*.good.example.com",
            "",
            ".example.com",
            "example.com.",
            "-a.example.com",
            "a-.example.com",
            "a_b.example.com",
            "a!.example.com",
            "Example.com",
        ] {
            assert!(!is_dns_hostname(bad), "{bad:?}");
        }
    }

    #[test]
    fn label_and_name_lengths_are_checked_at_the_boundary() {
        let label = |n| "a".repeat(n);
        assert!(is_dns_hostname(&format!("{}.com", label(63))));
        assert!(!is_dns_hostname(&format!("{}.com", label(64))));
        // 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253.
        let name = |last| format!("{0}.{0}.{0}.{1}", label(63), label(last));
        assert_eq!(name(61).len(), 253);
        assert!(is_dns_hostname(&name(61)));
        assert!(!is_dns_hostname(&name(62)));
    }
}
