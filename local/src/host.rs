//! The request's `Host` header, which both the gateway's base URL and the demo pages'
//! own origin come from.

use http::{HeaderMap, header};

/// The request's one `Host` header; none if it is missing, repeated or not text.
pub(crate) fn host(headers: &HeaderMap) -> Option<&str> {
    let mut hosts = headers.get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().ok(),
        _ => None,
    }
}
