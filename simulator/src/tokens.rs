use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::Scope;
use crate::ids;
use crate::retention::Retention;

/// What an access token stands for.
#[derive(Clone)]
pub(crate) struct Grant {
    /// The app whose code was exchanged; decides `unionid` on `/sns/userinfo`.
    pub(crate) app_id: String,
    pub(crate) user: String,
    pub(crate) openid: String,
    pub(crate) scope: Scope,
    issued_at: Instant,
}

pub(crate) enum TokenLookup {
    Valid(Grant),
    Unknown,
    Expired,
}

/// Web-authorization access tokens (not the account-wide client_credential token),
/// remembered for the store's retention (expired before that, unknown after).
pub(crate) struct TokenStore {
    tokens: HashMap<String, Grant>,
    retention: Retention,
}

impl TokenStore {
    /// Remembers each token for `keep_for` after its issue.
    pub(crate) fn new(keep_for: Duration) -> Self {
        Self {
            tokens: HashMap::new(),
            retention: Retention::new(keep_for),
        }
    }

    pub(crate) fn issue(
        &mut self,
        app_id: &str,
        user: &str,
        openid: &str,
        scope: Scope,
        now: Instant,
    ) -> String {
        self.retention
            .sweep(&mut self.tokens, now, |grant| grant.issued_at);
        loop {
            let token = ids::random_token(66);
            if self.tokens.contains_key(&token) {
                continue;
            }
            self.tokens.insert(
                token.clone(),
                Grant {
                    app_id: app_id.to_owned(),
                    user: user.to_owned(),
                    openid: openid.to_owned(),
                    scope,
                    issued_at: now,
                },
            );
            return token;
        }
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = &String> {
        self.tokens.keys()
    }

    pub(crate) fn lookup(&self, token: &str, now: Instant, ttl: Duration) -> TokenLookup {
        match self.tokens.get(token) {
            None => TokenLookup::Unknown,
            Some(grant) if now.saturating_duration_since(grant.issued_at) >= ttl => {
                TokenLookup::Expired
            }
            Some(grant) => TokenLookup::Valid(grant.clone()),
        }
    }
}
