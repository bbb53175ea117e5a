use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::Scope;
use crate::ids;

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

/// Web-authorization access tokens (not the account-wide client_credential token).
#[derive(Default)]
pub(crate) struct TokenStore {
    tokens: HashMap<String, Grant>,
}

impl TokenStore {
    pub(crate) fn issue(
        &mut self,
        app_id: &str,
        user: &str,
        openid: &str,
        scope: Scope,
        now: Instant,
    ) -> String {
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
