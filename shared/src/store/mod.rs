//! Where started logins wait for their callback. On Lambda this must be shared by every
//! execution environment, so production uses DynamoDB; the in-memory store serves the local
//! demo and unit tests.

mod dynamo;
mod memory;

pub use dynamo::DynamoStateStore;
pub use memory::MemoryStateStore;

use crate::login_state::{LoginState, StateId};

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

    /// Removes the login and returns it, in one atomic step: of two concurrent callers at
    /// most one gets it. Expiry is the caller's check (TTL deletion lags).
    async fn take(&self, state: &StateId) -> Result<Option<LoginState>, StoreError>;
}
