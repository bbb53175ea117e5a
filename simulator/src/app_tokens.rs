//! Apps' own access tokens (`/cgi-bin/stable_token`): one current token per app, handed
//! out again until it expires; `force_refresh` mints a new one and retires the old; a test
//! can retire one early (`WeChatSimulator::expire_app_token`), as a fetch elsewhere would.
//! Fetches are counted per app, so a test can check that many processes made one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::ids;

struct Current {
    token: String,
    issued_at: Instant,
}

#[derive(Default)]
pub(crate) struct AppTokenBook {
    current: HashMap<String, Current>,
    /// Every token still accepted, by value: its app and when it was issued.
    accepted: HashMap<String, (String, Instant)>,
    /// Every token ever handed out (for `issued_secrets`).
    issued: Vec<String>,
    fetches: HashMap<String, usize>,
    forced: HashMap<String, usize>,
}

impl AppTokenBook {
    /// The app's token and its seconds left: the current one, or a new one when there is
    /// none, it expired, or `force` asks for it.
    pub(crate) fn fetch(
        &mut self,
        app_id: &str,
        force: bool,
        now: Instant,
        ttl: Duration,
    ) -> (String, u64) {
        *self.fetches.entry(app_id.to_owned()).or_default() += 1;
        if force {
            *self.forced.entry(app_id.to_owned()).or_default() += 1;
        }
        if let Some(current) = self.current.get(app_id) {
            let age = now.saturating_duration_since(current.issued_at);
            if !force && age < ttl {
                return (current.token.clone(), (ttl - age).as_secs().max(1));
            }
            self.accepted.remove(&current.token);
        }
        let token = ids::random_token(96);
        self.accepted
            .insert(token.clone(), (app_id.to_owned(), now));
        self.issued.push(token.clone());
        self.current.insert(
            app_id.to_owned(),
            Current {
                token: token.clone(),
                issued_at: now,
            },
        );
        (token, ttl.as_secs())
    }

    /// The app a token belongs to, while WeChat accepts it.
    pub(crate) fn app_of(&self, token: &str, now: Instant, ttl: Duration) -> Option<&str> {
        let (app, issued_at) = self.accepted.get(token)?;
        (now.saturating_duration_since(*issued_at) < ttl).then_some(app.as_str())
    }

    /// Retires the app's current token: WeChat answers 40001 to it from now on, while a
    /// plain `stable_token` still hands it out until it expires (only `force_refresh`
    /// replaces it).
    pub(crate) fn retire_current(&mut self, app_id: &str) {
        if let Some(current) = self.current.get(app_id) {
            self.accepted.remove(&current.token);
        }
    }

    pub(crate) fn fetches(&self, app_id: &str) -> usize {
        self.fetches.get(app_id).copied().unwrap_or(0)
    }

    pub(crate) fn forced(&self, app_id: &str) -> usize {
        self.forced.get(app_id).copied().unwrap_or(0)
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &String> {
        self.issued.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_handed_out_again_until_it_expires_or_is_forced() {
        let mut book = AppTokenBook::default();
        let t0 = Instant::now();
        let ttl = Duration::from_secs(7200);
        let (first, left) = book.fetch("wx1", false, t0, ttl);
        assert_eq!(left, 7200);
        let later = t0 + Duration::from_secs(100);
        assert_eq!(book.fetch("wx1", false, later, ttl), (first.clone(), 7100));
        assert_eq!(book.app_of(&first, later, ttl), Some("wx1"));
        // Expired exactly at its ttl.
        assert_eq!(book.app_of(&first, t0 + ttl, ttl), None);
        let (forced, _) = book.fetch("wx1", true, later, ttl);
        assert_ne!(forced, first);
        assert_eq!(book.app_of(&first, later, ttl), None);
        book.retire_current("wx1");
        assert_eq!(book.app_of(&forced, later, ttl), None);
        assert_eq!(book.fetch("wx1", false, later, ttl).0, forced);
        assert_eq!((book.fetches("wx1"), book.forced("wx1")), (4, 1));
        assert_eq!(book.fetches("wx2"), 0);
    }
}
