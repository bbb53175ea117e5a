//! The Public Suffix List's part in the allowlist (compiled in, with the `psl` crate): a
//! wildcard entry must sit under a registrable domain, and never reaches across a public
//! suffix below its own base.

/// Whether `domain` is itself a public suffix, from the ICANN or the private section of the
/// list (co.uk, com.cn, github.io, vercel.app): sites under it belong to different people.
/// The list counts an unlisted top-level label as a suffix of one label; `domain` has a dot,
/// so only a listed rule makes it one.
pub(super) fn is_public_suffix(domain: &str) -> bool {
    psl::suffix(domain.as_bytes()).is_some_and(|suffix| suffix == domain)
}

/// Whether a public suffix lies between `host` and the wildcard's `base`: under
/// `*.amazonaws.com` (itself registrable) sit the public suffixes `s3.amazonaws.com` and
/// `us-east-1.amazonaws.com`, whose sites are anyone's, so `x.s3.amazonaws.com` is not one
/// of `amazonaws.com`'s subdomains in the sense a wildcard entry means.
pub(super) fn under_a_public_suffix_below(host: &str, base: &str) -> bool {
    psl::suffix(host.as_bytes()).is_some_and(|suffix| suffix.as_bytes().len() > base.len())
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::super::{AllowedOrigins, OriginRuleError};

    fn allows(list: &str, url: &str) -> bool {
        AllowedOrigins::parse(list)
            .unwrap()
            .allows(&Url::parse(url).unwrap())
    }

    fn refusal(entry: &str) -> Option<OriginRuleError> {
        AllowedOrigins::parse(entry).err()
    }

    #[test]
    fn wildcard_over_a_public_suffix_is_refused() {
        // ICANN section (co.uk, com.cn, the IDN 公司.cn), private section (github.io,
        // vercel.app, s3.amazonaws.com), and a wildcard rule of the list (*.ck: any x.ck).
        for entry in [
            "https://*.co.uk",
            "https://*.com.cn",
            "https://*.xn--55qx5d.cn",
            "https://*.github.io",
            "https://*.vercel.app",
            "https://*.s3.amazonaws.com",
            "https://*.us-east-1.amazonaws.com",
            "https://*.anything.ck",
            "https://*.github.io/login/",
            "http://*.co.uk:8080",
        ] {
            assert_eq!(
                refusal(entry),
                Some(OriginRuleError::PublicSuffixWildcard(entry.to_owned())),
                "{entry}"
            );
        }
        // Still the older, plainer refusal for a single label.
        assert_eq!(
            refusal("https://*.com"),
            Some(OriginRuleError::Wildcard("https://*.com".to_owned()))
        );
    }

    #[test]
    fn wildcard_under_a_registrable_domain_is_accepted() {
        for entry in [
            "https://*.example.co.uk",
            "https://*.me.github.io",
            "https://*.myapp.vercel.app/login/",
            "https://*.shop.example.com.cn",
            "https://*.bucket.s3.amazonaws.com",
            // The list names no amazonaws.com itself: Amazon's domain, registrable.
            "https://*.amazonaws.com",
            // An exception rule of the list (!www.ck) is a registrable domain.
            "https://*.www.ck",
            // Unlisted top-level labels: only the top label counts as the suffix.
            "https://*.app.internal",
            "http://*.dev.localhost:3000",
        ] {
            assert_eq!(refusal(entry), None, "{entry}");
        }
    }

    #[test]
    fn exact_hosts_on_the_public_suffix_list_are_not_affected() {
        // One host is one site, whoever runs it; only a wildcard spans many owners.
        for entry in [
            "https://github.io",
            "https://co.uk",
            "https://vercel.app/cb",
            "https://s3.amazonaws.com",
        ] {
            assert_eq!(refusal(entry), None, "{entry}");
        }
    }

    #[test]
    fn public_suffix_refusal_names_the_entry_and_a_fix() {
        let message = refusal("https://*.github.io").unwrap().to_string();
        assert!(message.starts_with("`https://*.github.io`: a wildcard over a public suffix"));
        assert!(message.contains("https://*.example.co.uk"));
    }

    #[test]
    fn a_wildcard_never_reaches_across_a_public_suffix_below_it() {
        let list = "https://*.amazonaws.com,https://*.example.com";
        assert!(allows(list, "https://console.amazonaws.com/"));
        assert!(!allows(list, "https://attacker.s3.amazonaws.com/"));
        assert!(!allows(list, "https://x.us-east-1.amazonaws.com/"));
        assert!(!allows(list, "https://s3.amazonaws.com/"));
        assert!(allows(list, "https://a.b.example.com/"));
    }
}
