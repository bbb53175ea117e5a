//! The test browser's cookie jar: cookies in creation order (a browser sends cookies of one
//! path oldest first, RFC 6265 §5.4, which the gateway's cap on pending logins relies on),
//! replaced in place (keeping their creation time, §5.3) and removed by `Max-Age=0`.

use crate::http::parse_set_cookie;

/// Cookies as `(name, value, path)`, oldest first.
#[derive(Default)]
pub struct Jar(Vec<(String, String, String)>);

impl Jar {
    /// Keeps what one `Set-Cookie` header says. A `__Host-` cookie that breaks its prefix's
    /// rules (RFC 6265bis §4.1.3.2) would be dropped by a real browser: here it fails the
    /// test instead of vanishing quietly.
    pub fn store(&mut self, set_cookie: &str) {
        let cookie = parse_set_cookie(set_cookie);
        let name = cookie.name().to_owned();
        let path = cookie.path().unwrap_or("/").to_owned();
        if name.starts_with("__Host-") {
            assert!(
                cookie.secure() == Some(true) && cookie.domain().is_none() && path == "/",
                "a browser refuses {set_cookie}"
            );
        }
        let existing = self.0.iter().position(|(n, _, p)| *n == name && *p == path);
        if cookie.max_age() == Some(cookie::time::Duration::ZERO) {
            if let Some(i) = existing {
                self.0.remove(i);
            }
        } else if let Some(i) = existing {
            self.0[i].1 = cookie.value().to_owned();
        } else {
            self.0.push((name, cookie.value().to_owned(), path));
        }
    }

    /// The `name=value` pairs sent to `raw_path` (the path with any stage), oldest first.
    pub fn for_path(&self, raw_path: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(_, _, path)| raw_path.starts_with(path.as_str()))
            .map(|(name, value, _)| format!("{name}={value}"))
            .collect()
    }

    /// Every cookie's name, oldest first.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|(name, _, _)| name.clone()).collect()
    }

    pub fn values(&self) -> Vec<String> {
        self.0.iter().map(|(_, value, _)| value.clone()).collect()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}
