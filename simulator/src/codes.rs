use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::Scope;
use crate::ids;
use crate::retention::Retention;

struct IssuedCode {
    /// The AppID the code was issued to; only that app can redeem it.
    app_id: String,
    user: String,
    scope: Scope,
    issued_at: Instant,
    used: bool,
}

pub(crate) enum Redemption {
    Granted { user: String, scope: Scope },
    Unknown,
    AlreadyUsed,
    Expired,
}

/// Authorization codes. Redeemed codes are kept so a replay is reported as
/// 40163 "code been used" rather than 40029 "invalid code", as WeChat does, for as long
/// as the store's retention (then forgotten: 40029).
pub(crate) struct CodeStore {
    codes: HashMap<String, IssuedCode>,
    retention: Retention,
}

impl CodeStore {
    /// Remembers each code for `keep_for` after its issue.
    pub(crate) fn new(keep_for: Duration) -> Self {
        Self {
            codes: HashMap::new(),
            retention: Retention::new(keep_for),
        }
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &String> {
        self.codes.keys()
    }

    pub(crate) fn issue(&mut self, app_id: &str, user: &str, scope: Scope, now: Instant) -> String {
        self.retention
            .sweep(&mut self.codes, now, |code| code.issued_at);
        loop {
            let code = ids::random_alnum(32);
            if self.codes.contains_key(&code) {
                continue;
            }
            self.codes.insert(
                code.clone(),
                IssuedCode {
                    app_id: app_id.to_owned(),
                    user: user.to_owned(),
                    scope,
                    issued_at: now,
                    used: false,
                },
            );
            return code;
        }
    }

    /// Redeems `code` for the app `app_id`. A code issued to another app is reported as
    /// unknown (40029: that app's codes do not exist for this one) and is spent all the
    /// same, as WeChat does: a code in the wrong app's hands has leaked, so the rightful
    /// app's later attempt gets 40163 instead of tokens.
    pub(crate) fn redeem(
        &mut self,
        code: &str,
        app_id: &str,
        now: Instant,
        ttl: Duration,
    ) -> Redemption {
        let Some(entry) = self.codes.get_mut(code) else {
            return Redemption::Unknown;
        };
        if entry.app_id != app_id {
            entry.used = true;
            return Redemption::Unknown;
        }
        if entry.used {
            return Redemption::AlreadyUsed;
        }
        if now.saturating_duration_since(entry.issued_at) >= ttl {
            return Redemption::Expired;
        }
        entry.used = true;
        Redemption::Granted {
            user: entry.user.clone(),
            scope: entry.scope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_granted_once_then_reported_as_used() {
        let mut store = CodeStore::new(Duration::from_secs(600));
        let now = Instant::now();
        let code = store.issue("wx1", "alice", Scope::UserInfo, now);
        let ttl = Duration::from_secs(300);
        assert!(matches!(
            store.redeem(&code, "wx1", now, ttl),
            Redemption::Granted { ref user, scope: Scope::UserInfo } if user == "alice"
        ));
        assert!(matches!(
            store.redeem(&code, "wx1", now, ttl),
            Redemption::AlreadyUsed
        ));
        assert!(matches!(
            store.redeem("nope", "wx1", now, ttl),
            Redemption::Unknown
        ));
    }

    #[test]
    fn a_code_expires_at_its_ttl() {
        let mut store = CodeStore::new(Duration::from_secs(600));
        let now = Instant::now();
        let code = store.issue("wx1", "bob", Scope::Base, now);
        let ttl = Duration::from_secs(300);
        assert!(matches!(
            store.redeem(&code, "wx1", now + ttl, ttl),
            Redemption::Expired
        ));
        // An expired code stays expired; it was never consumed.
        assert!(matches!(
            store.redeem(&code, "wx1", now + ttl * 2, ttl),
            Redemption::Expired
        ));
    }

    #[test]
    fn a_used_code_is_reported_as_used_until_it_is_forgotten() {
        let keep_for = Duration::from_secs(600);
        let mut store = CodeStore::new(keep_for);
        let t0 = Instant::now();
        let ttl = Duration::from_secs(300);
        let code = store.issue("wx1", "dan", Scope::Base, t0);
        assert!(matches!(
            store.redeem(&code, "wx1", t0, ttl),
            Redemption::Granted { .. }
        ));
        // Enough codes to reach a sweep, issued when the first is past its retention.
        let late = t0 + keep_for;
        assert!(matches!(
            store.redeem(&code, "wx1", late, ttl),
            Redemption::AlreadyUsed
        ));
        let fresh: Vec<String> = (0..crate::retention::Retention::SWEEP_ABOVE)
            .map(|_| store.issue("wx1", "eve", Scope::Base, late))
            .collect();
        assert!(matches!(
            store.redeem(&code, "wx1", late, ttl),
            Redemption::Unknown
        ));
        assert!(matches!(
            store.redeem(&fresh[0], "wx1", late, ttl),
            Redemption::Granted { .. }
        ));
    }

    #[test]
    fn another_apps_code_is_unknown_and_spent() {
        let mut store = CodeStore::new(Duration::from_secs(600));
        let now = Instant::now();
        let ttl = Duration::from_secs(300);
        let code = store.issue("wxweb", "cat", Scope::Login, now);
        assert!(matches!(
            store.redeem(&code, "wxoa", now, ttl),
            Redemption::Unknown
        ));
        assert!(matches!(
            store.redeem(&code, "wxweb", now, ttl),
            Redemption::AlreadyUsed
        ));
    }
}
