//! The shared app access token as the state table keeps it: one item per app under
//! `apptoken:<appid>` (never a valid state, which is alphanumeric, nor a grant's key),
//! holding the token sealed, when to refresh it and when it dies, and the lease that lets
//! exactly one execution environment fetch it from WeChat at a time.

/// The item key's prefix; the AppID follows it.
pub const APP_TOKEN_KEY_PREFIX: &str = "apptoken:";

/// The state table's key of an app's token item.
pub fn app_token_key(app_id: &str) -> String {
    format!("{APP_TOKEN_KEY_PREFIX}{app_id}")
}

/// An app's token item as it is now: nothing, a token, a lease, or both (a refresh under
/// way while the old token still works).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppTokenRecord {
    pub token: Option<StoredAppToken>,
    /// Epoch seconds: the lease is held while `now < lease_until`.
    pub lease_until: Option<i64>,
}

/// A token as stored: sealed (see `seal.rs`), with its times in epoch seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAppToken {
    pub sealed: Vec<u8>,
    /// From then on a process should fetch a new one (WeChat's `expires_in` less a margin).
    pub refresh_at: i64,
    /// WeChat's expiry: never used at or after it.
    pub expires_at: i64,
    /// Random, new with every stored token: what a forced refresh names as the token
    /// WeChat rejected, so that of many environments seeing the same 40001 only one
    /// replaces it.
    pub version: String,
}

/// Which stored token a lease is taken to replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replacing<'a> {
    /// None, or one whose `refresh_at` is at or before this time.
    DueBy(i64),
    /// None, or exactly this version (WeChat rejected it, or this process cannot open it).
    Version(&'a str),
}

/// What taking a lease asks of the store.
#[derive(Clone, Copy, Debug)]
pub struct LeaseRequest<'a> {
    /// Epoch seconds: a lease whose `lease_until` is at or before it has expired.
    pub now: i64,
    /// Epoch seconds: until when the new lease is held.
    pub until: i64,
    pub replacing: Replacing<'a>,
}

impl LeaseRequest<'_> {
    /// Whether a lease may be taken on `record`: the one definition the in-memory store
    /// applies and the DynamoDB condition expresses.
    pub fn fits(&self, record: &AppTokenRecord) -> bool {
        let lease_free = record.lease_until.is_none_or(|until| until <= self.now);
        let replaceable = match (&record.token, self.replacing) {
            (None, _) => true,
            (Some(token), Replacing::DueBy(at)) => token.refresh_at <= at,
            (Some(token), Replacing::Version(version)) => token.version == version,
        };
        lease_free && replaceable
    }
}

/// A lease taken: only its holder may store the next token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease(pub String);

/// A token to store under a lease.
#[derive(Clone, Copy, Debug)]
pub struct NewAppToken<'a> {
    pub sealed: &'a [u8],
    pub refresh_at: i64,
    pub expires_at: i64,
}
