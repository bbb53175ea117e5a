//! Where started logins wait for their callback. On Lambda this must be shared by every
//! execution environment, so production uses DynamoDB; the in-memory store serves the local
//! demo and unit tests.
//!
//! A login is one item for its whole life: `put_new` at `/auth`; `consume` at the callback
//! (atomic, first caller wins, and the item then lives on only for the duplicate-callback
//! window); `record_outcome` stores the sealed result for a repeat of the same callback.
//!
//! An OpenID Connect login also leaves a grant: `put_grant` at the callback, stored under
//! the hash of its authorization code; `redeem_grant` at the token endpoint (atomic, first
//! fitting caller wins; a replay revokes it); `find_grant` at userinfo.
//!
//! Each app's shared access token is one more item (`apptoken:<appid>`): `find_app_token`
//! reads it, `take_app_token_lease` lets one caller at a time fetch a new token, and
//! `put_app_token` stores it under that lease (`crate::app_token`).
//!
//! Both stores keep one contract, checked case by case against each of them by the
//! conformance suite in `tests/it/store_contract.rs`.

mod dynamo;
mod expiring_map;
mod failure;
mod memory;
mod timed;

pub use dynamo::{DynamoStateStore, attr, dynamo_timeouts};
pub use memory::MemoryStateStore;
pub use timed::TimedStore;

use crate::app_token::stored::{AppTokenRecord, Lease, LeaseRequest, NewAppToken};
use crate::login_state::{Consumed, LoginState, StateId};
use crate::oidc::grant::{Grant, GrantId, GrantStatus, Redeemed, Redemption};
use crate::scope::Scope;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or refused for now (network, throttling, 5xx):
    /// retrying shortly may work.
    #[error("the state store is unavailable: {0}")]
    Unavailable(String),
    /// The store refused us for good: no permission, no such table, a request it finds
    /// invalid. Our deployment is wrong, and retrying will not help; an operator must act.
    #[error("the state store refused the gateway's configuration: {0}")]
    Misconfigured(String),
    /// `record_outcome` for a login that was never consumed, or is gone.
    #[error("the login was not consumed")]
    NotConsumed,
    /// A state with this id exists already; never expected with 190 random bits.
    #[error("a login with this state exists already")]
    AlreadyExists,
    /// An item that is not a login state we wrote.
    #[error("the stored login state is unreadable: {0}")]
    Corrupt(String),
}

#[async_trait::async_trait]
pub trait StateStore: Send + Sync {
    /// Does the work the first request would otherwise do before it can talk to the store
    /// (credentials, endpoint, TLS handshake, a pooled connection), with a call that reads
    /// and changes nothing. Called during a function's init, which Lambda runs at full
    /// CPU speed, where the first invocation runs at its memory size's share
    /// (docs/performance.md). Stores without a network have nothing to do.
    async fn warm_up(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Stores a new login; fails with [`StoreError::AlreadyExists`] instead of overwriting.
    async fn put_new(&self, login: &LoginState) -> Result<(), StoreError>;

    /// Marks the login used at `claim.now`, in one atomic step, if and only if every
    /// condition of `claim` holds, and from then on keeps it only until `keep_until`. Of
    /// concurrent callers exactly one gets [`Consumed::Fresh`]; the others see
    /// [`Consumed::Used`]. A login the claim does not fit (expired, other route, other
    /// browser) is left exactly as it was and reported as [`Consumed::Kept`], so a
    /// wrong-browser request cannot spend the real one's login. Anything but a consumption
    /// by this call is never `Fresh`.
    async fn consume(
        &self,
        state: &StateId,
        claim: &Claim<'_>,
        keep_until: i64,
    ) -> Result<Consumed, StoreError>;

    /// Attaches the sealed outcome to a consumed login ([`StoreError::NotConsumed`] if it
    /// is not consumed or gone).
    async fn record_outcome(&self, state: &StateId, sealed: &[u8]) -> Result<(), StoreError>;

    /// Reads a login without changing it (a strongly consistent read): `Fresh` when not
    /// consumed yet.
    async fn find(&self, state: &StateId) -> Result<Consumed, StoreError>;

    /// Stores a new grant until its code expires; [`StoreError::AlreadyExists`] instead
    /// of overwriting.
    async fn put_grant(&self, id: &GrantId, grant: &Grant) -> Result<(), StoreError>;

    /// Marks the grant redeemed at `redemption.now`, in one atomic step, if and only if it
    /// is not redeemed yet and `redemption` fits it, and from then on keeps it until
    /// `keep_until` (when the access tokens issued from it expire). Of concurrent callers
    /// exactly one gets [`Redeemed::Fresh`]. A request that does not fit changes nothing
    /// ([`Redeemed::Kept`]); a redeemed grant presented again is revoked
    /// ([`Redeemed::Replayed`]).
    async fn redeem_grant(
        &self,
        id: &GrantId,
        redemption: &Redemption<'_>,
        keep_until: i64,
    ) -> Result<Redeemed, StoreError>;

    /// Reads a grant (strongly consistent): `None` if unknown or past the time it is kept
    /// (`now`, epoch seconds; TTL deletion lags).
    async fn find_grant(&self, id: &GrantId, now: i64) -> Result<Option<GrantStatus>, StoreError>;

    /// Reads the app's token item (strongly consistent); an empty record if there is none.
    /// Times are the caller's to judge (TTL deletion lags).
    async fn find_app_token(&self, app_id: &str) -> Result<AppTokenRecord, StoreError>;

    /// Takes the app's lease until `request.until`, in one atomic step, if and only if
    /// `request` fits the item ([`LeaseRequest::fits`]); creates the item if there is none.
    /// Of concurrent callers at most one gets `Some`; a request that does not fit changes
    /// nothing.
    async fn take_app_token_lease(
        &self,
        app_id: &str,
        request: &LeaseRequest<'_>,
    ) -> Result<Option<Lease>, StoreError>;

    /// Stores a new token and releases the lease, if `lease` is still the item's (it may
    /// have expired and been taken by another). `Some(version)` of the stored token, or
    /// `None` when the lease was lost and nothing changed.
    async fn put_app_token(
        &self,
        app_id: &str,
        lease: &Lease,
        token: &NewAppToken<'_>,
    ) -> Result<Option<String>, StoreError>;
}

/// What a callback must show to consume a login.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    /// The callback's route: a login is consumed only by the route it was started for.
    pub scope: Scope,
    /// Epoch seconds: a login is consumed only before it expires (TTL deletion lags).
    pub now: i64,
    pub browser: BrowserCheck<'a>,
}

/// The browser-binding part of a [`Claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowserCheck<'a> {
    /// Binding is off: any browser may finish the login.
    Off,
    /// The stored binding hash must equal this one (SHA-256 hex of the presented cookie).
    Hash(&'a str),
    /// Binding is on and no cookie came: nothing can be consumed.
    NoCookie,
}

impl Claim<'_> {
    /// Whether `login` (not consumed yet) may be consumed by this claim: the one
    /// definition the in-memory store applies and the DynamoDB condition expresses.
    pub fn fits(&self, login: &LoginState) -> bool {
        let browser = match self.browser {
            BrowserCheck::Off => true,
            check => check.proves(login.browser_binding.as_deref()),
        };
        login.scope == self.scope && !login.is_expired(self.now) && browser
    }
}

impl BrowserCheck<'_> {
    /// Whether this request shows the cookie of the browser whose hash the login stored.
    /// Never with binding off: then no browser can prove anything.
    pub fn proves(&self, stored_hash: Option<&str>) -> bool {
        match (self, stored_hash) {
            (Self::Hash(presented), Some(stored)) => {
                crate::login::browser_binding::same_hash(presented, stored)
            }
            _ => false,
        }
    }
}
