//! Which response modes an app's redirect-mode logins may use (`RESPONSE_MODES`, an app's
//! `response_modes`). `fragment` is off unless listed: a result in the fragment rides along
//! through any redirect on the return page's origin (a browser carries the fragment over
//! a 302 that has none), so one forwarding page would hand the token to another site.

use std::fmt;

use crate::scope::ResponseMode;

/// The modes a login may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseModes {
    query: bool,
    fragment: bool,
    form_post: bool,
}

impl Default for ResponseModes {
    /// `query,form_post`.
    fn default() -> Self {
        Self {
            query: true,
            fragment: false,
            form_post: true,
        }
    }
}

impl ResponseModes {
    /// A comma-separated list of `query`, `fragment` and `form_post`, each at most once,
    /// at least one.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut modes = Self {
            query: false,
            fragment: false,
            form_post: false,
        };
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let slot = match ResponseMode::parse(entry) {
                Some(ResponseMode::Query) => &mut modes.query,
                Some(ResponseMode::Fragment) => &mut modes.fragment,
                Some(ResponseMode::FormPost) => &mut modes.form_post,
                None => {
                    return Err(
                        "must list response modes among query, fragment and form_post".to_owned(),
                    );
                }
            };
            if std::mem::replace(slot, true) {
                return Err(format!("lists {entry} twice"));
            }
        }
        if modes
            == (Self {
                query: false,
                fragment: false,
                form_post: false,
            })
        {
            return Err("must list at least one of query, fragment and form_post".to_owned());
        }
        Ok(modes)
    }

    pub fn allows(self, mode: ResponseMode) -> bool {
        match mode {
            ResponseMode::Query => self.query,
            ResponseMode::Fragment => self.fragment,
            ResponseMode::FormPost => self.form_post,
        }
    }
}

impl fmt::Display for ResponseModes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listed: Vec<&str> = [
            ResponseMode::Query,
            ResponseMode::Fragment,
            ResponseMode::FormPost,
        ]
        .into_iter()
        .filter(|m| self.allows(*m))
        .map(ResponseMode::as_str)
        .collect();
        f.write_str(&listed.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_leaves_fragment_out() {
        let modes = ResponseModes::default();
        assert!(modes.allows(ResponseMode::Query) && modes.allows(ResponseMode::FormPost));
        assert!(!modes.allows(ResponseMode::Fragment));
        assert_eq!(modes.to_string(), "query,form_post");
    }

    #[test]
    fn lists_are_read_at_their_boundaries() {
        let all = ResponseModes::parse(" fragment , query,form_post").unwrap();
        assert_eq!(all.to_string(), "query,fragment,form_post");
        let one = ResponseModes::parse("form_post").unwrap();
        assert!(!one.allows(ResponseMode::Query) && one.allows(ResponseMode::FormPost));
        for bad in [
            "",
            " , ",
            "query,query",
            "Query",
            "fragment,post",
            "query;fragment",
        ] {
            assert!(ResponseModes::parse(bad).is_err(), "{bad:?}");
        }
    }
}
