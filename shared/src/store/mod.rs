//! Where started logins wait for their callback. On Lambda this must be shared by every
//! execution environment, so production uses DynamoDB; the in-memory store serves the local
//! demo and unit tests.
//!
//! A login is one item for its whole life: `put_new` at `/auth`; `consume` at the callback
//! (atomic, first caller wins, and the item then lives on only for the duplicate-callback
//! window); `record_outcome` stores the sealed result for a repeat of the same callback.

mod dynamo;
mod memory;
mod timed;

pub use dynamo::{DynamoStateStore, attr, dynamo_timeouts};
pub use memory::MemoryStateStore;
pub use timed::TimedStore;

use crate::login_state::{Consumed, LoginState, StateId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or refused for now (network, throttling, 5xx).
    #[error("the state store is unavailable: {0}")]
    Unavailable(String),
    /// A state with this id exists already; never expected with 190 random bits.
    #[error("a login with this state exists already")]
    AlreadyExists,
    /// An item that is not a login state we wrote.
    #[error("the stored login state is unreadable: {0}")]
    Corrupt(String),
}

#[async_trait::async_trait]
pub trait StateStore: Send + Sync {
    /// Stores a new login; fails with [`StoreError::AlreadyExists`] instead of overwriting.
    async fn put_new(&self, login: &LoginState) -> Result<(), StoreError>;

    /// Marks the login used at `now`, in one atomic step, and from then on keeps it only
    /// until `keep_until`. Of concurrent callers exactly one gets [`Consumed::Fresh`]; the
    /// others see [`Consumed::Used`]. Expiry is the caller's check (TTL deletion lags).
    async fn consume(
        &self,
        state: &StateId,
        now: i64,
        keep_until: i64,
    ) -> Result<Consumed, StoreError>;

    /// Attaches the sealed outcome to a consumed login.
    async fn record_outcome(&self, state: &StateId, sealed: &[u8]) -> Result<(), StoreError>;

    /// Reads a login without changing it (a strongly consistent read).
    async fn find(&self, state: &StateId) -> Result<Consumed, StoreError>;
}
