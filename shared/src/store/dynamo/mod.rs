//! The DynamoDB store: logins and grants as items of one table, shared by every Lambda
//! execution environment. Each file holds one side of it; this one the store itself and
//! the [`StateStore`] calls, each handed to the file that knows how.

mod app_tokens;
pub mod attr;
mod errors;
mod grants;
mod items;
mod logins;
mod setup;
mod writes;

use aws_sdk_dynamodb::Client;

pub use setup::dynamo_timeouts;

use super::{Claim, StateStore, StoreError};
use crate::app_token::stored::{AppTokenRecord, Lease, LeaseRequest, NewAppToken};
use crate::login_state::{Consumed, LoginState, StateId};
use crate::oidc::grant::{Grant, GrantId, GrantStatus, Redeemed, Redemption};
use errors::store_error;
use writes::put_if_absent;

/// Logins in a DynamoDB table, shared by every Lambda execution environment.
#[derive(Clone, Debug)]
pub struct DynamoStateStore {
    client: Client,
    table: String,
}

impl DynamoStateStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

#[async_trait::async_trait]
impl StateStore for DynamoStateStore {
    /// `DescribeTable`: the table's metadata, no item read or written, no capacity used;
    /// the one call every function's role grants besides its own item calls.
    async fn warm_up(&self) -> Result<(), StoreError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn put_new(&self, login: &LoginState) -> Result<(), StoreError> {
        put_if_absent(self, items::to_item(login)).await
    }

    async fn consume(
        &self,
        state: &StateId,
        claim: &Claim<'_>,
        keep_until: i64,
    ) -> Result<Consumed, StoreError> {
        logins::consume(self, state, claim, keep_until).await
    }

    async fn record_outcome(&self, state: &StateId, sealed: &[u8]) -> Result<(), StoreError> {
        logins::record_outcome(self, state, sealed).await
    }

    async fn find(&self, state: &StateId) -> Result<Consumed, StoreError> {
        logins::find(self, state).await
    }

    async fn put_grant(&self, id: &GrantId, grant: &Grant) -> Result<(), StoreError> {
        put_if_absent(self, items::grant_to_item(id, grant)).await
    }

    async fn redeem_grant(
        &self,
        id: &GrantId,
        redemption: &Redemption<'_>,
        keep_until: i64,
    ) -> Result<Redeemed, StoreError> {
        grants::redeem(self, id, redemption, keep_until).await
    }

    async fn find_grant(&self, id: &GrantId, now: i64) -> Result<Option<GrantStatus>, StoreError> {
        grants::find(self, id, now).await
    }

    async fn find_app_token(&self, app_id: &str) -> Result<AppTokenRecord, StoreError> {
        app_tokens::find(self, app_id).await
    }

    async fn take_app_token_lease(
        &self,
        app_id: &str,
        request: &LeaseRequest<'_>,
    ) -> Result<Option<Lease>, StoreError> {
        app_tokens::take_lease(self, app_id, request).await
    }

    async fn put_app_token(
        &self,
        app_id: &str,
        lease: &Lease,
        token: &NewAppToken<'_>,
    ) -> Result<Option<String>, StoreError> {
        app_tokens::put(self, app_id, lease, token).await
    }
}
