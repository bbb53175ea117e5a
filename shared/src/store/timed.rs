use std::sync::Arc;

use super::{Claim, StateStore, StoreError};
use crate::app_token::stored::{AppTokenRecord, Lease, LeaseRequest, NewAppToken};
use crate::login_state::{Consumed, LoginState, StateId};
use crate::oidc::grant::{Grant, GrantId, GrantStatus, Redeemed, Redemption};
use crate::timing::{Wait, waiting_on};

/// Any store, with every call's time booked as a wait on the store in the request's
/// [`crate::timing`] ledger. The gateway wraps whatever store it is given in one.
pub struct TimedStore(pub Arc<dyn StateStore>);

#[async_trait::async_trait]
impl StateStore for TimedStore {
    // Not timed: it runs at init, outside any request.
    async fn warm_up(&self) -> Result<(), StoreError> {
        self.0.warm_up().await
    }

    async fn put_new(&self, login: &LoginState) -> Result<(), StoreError> {
        waiting_on(Wait::Store, self.0.put_new(login)).await
    }

    async fn consume(
        &self,
        state: &StateId,
        claim: &Claim<'_>,
        keep_until: i64,
    ) -> Result<Consumed, StoreError> {
        waiting_on(Wait::Store, self.0.consume(state, claim, keep_until)).await
    }

    async fn record_outcome(&self, state: &StateId, sealed: &[u8]) -> Result<(), StoreError> {
        waiting_on(Wait::Store, self.0.record_outcome(state, sealed)).await
    }

    async fn find(&self, state: &StateId) -> Result<Consumed, StoreError> {
        waiting_on(Wait::Store, self.0.find(state)).await
    }

    async fn put_grant(&self, id: &GrantId, grant: &Grant) -> Result<(), StoreError> {
        waiting_on(Wait::Store, self.0.put_grant(id, grant)).await
    }

    async fn redeem_grant(
        &self,
        id: &GrantId,
        redemption: &Redemption<'_>,
        keep_until: i64,
    ) -> Result<Redeemed, StoreError> {
        waiting_on(Wait::Store, self.0.redeem_grant(id, redemption, keep_until)).await
    }

    async fn find_grant(&self, id: &GrantId, now: i64) -> Result<Option<GrantStatus>, StoreError> {
        waiting_on(Wait::Store, self.0.find_grant(id, now)).await
    }

    async fn find_app_token(&self, app_id: &str) -> Result<AppTokenRecord, StoreError> {
        waiting_on(Wait::Store, self.0.find_app_token(app_id)).await
    }

    async fn take_app_token_lease(
        &self,
        app_id: &str,
        request: &LeaseRequest<'_>,
    ) -> Result<Option<Lease>, StoreError> {
        waiting_on(Wait::Store, self.0.take_app_token_lease(app_id, request)).await
    }

    async fn put_app_token(
        &self,
        app_id: &str,
        lease: &Lease,
        token: &NewAppToken<'_>,
    ) -> Result<Option<String>, StoreError> {
        waiting_on(Wait::Store, self.0.put_app_token(app_id, lease, token)).await
    }
}
