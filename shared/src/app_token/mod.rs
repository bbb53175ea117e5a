//! One app access token per app for every process (`POST /cgi-bin/stable_token`), shared
//! through the state table: fetching it independently from each Lambda execution
//! environment is how deployments run into WeChat's fetch limits (45009), and a forced
//! refresh in one environment invalidates what the others hold (40001).
//!
//! A caller reads the app's item. A token before its `refresh_at` is used as it is.
//! Otherwise the caller tries to take the item's lease (a conditional write, held for
//! [`LEASE_SECONDS`]); the one that gets it fetches from WeChat and stores the token
//! sealed (`seal.rs`), while the others keep using a token that is due but still alive, or
//! wait briefly and read again. A holder that dies only delays the next fetch until its
//! lease expires. When WeChat rejects a token (40001, 42001), [`SharedAppToken::replace`]
//! takes the lease only if the rejected token is still the stored one, so of many
//! environments that saw the same rejection one forces a refresh and the others read its
//! result.

pub mod seal;
pub mod stored;

use std::time::Duration;

use tokio::time::Instant;

use crate::login_state::now_epoch_seconds;
use crate::sealing_key::SealingKey;
use crate::secret::Secret;
use crate::store::{StateStore, StoreError};
use crate::wechat::{WeChatClient, WeChatError};
use stored::{LeaseRequest, NewAppToken, Replacing};

/// A token is refreshed this long before WeChat's expiry (WeChat itself rotates it five
/// minutes early and keeps both valid meanwhile); half its lifetime for a shorter one.
pub const REFRESH_MARGIN_SECONDS: i64 = 300;

/// How long a lease is held: longer than one fetch from WeChat may take, short enough
/// that a holder that died delays the others only briefly.
pub const LEASE_SECONDS: i64 = 5;

/// How often a caller that waits for another's fetch reads the item again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum AppTokenError {
    #[error("fetching the app access token failed: {0}")]
    WeChat(WeChatError),
    #[error(transparent)]
    Store(StoreError),
    /// Another process holds the lease and stored nothing before our deadline.
    #[error("another process is fetching the app access token")]
    Busy,
}

impl From<StoreError> for AppTokenError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

/// An app's shared token, as one request sees it.
pub struct SharedAppToken<'a> {
    pub store: &'a dyn StateStore,
    pub client: &'a WeChatClient,
    pub key: &'a SealingKey,
}

impl SharedAppToken<'_> {
    /// A token that is valid as far as the table knows.
    pub async fn current(&self, deadline: Instant) -> Result<Secret, AppTokenError> {
        self.obtain(None, deadline).await
    }

    /// A token other than `rejected`, which WeChat refused (40001, 42001): the one another
    /// process stored meanwhile, or one fetched with `force_refresh`.
    pub async fn replace(
        &self,
        rejected: &Secret,
        deadline: Instant,
    ) -> Result<Secret, AppTokenError> {
        self.obtain(Some(rejected), deadline).await
    }

    async fn obtain(
        &self,
        rejected: Option<&Secret>,
        deadline: Instant,
    ) -> Result<Secret, AppTokenError> {
        let app_id = self.client.app_id();
        loop {
            let now = now_epoch_seconds();
            let record = self.store.find_app_token(app_id).await?;
            let stored = record.token.as_ref();
            let opened = stored.and_then(|t| seal::open(&t.sealed, self.key, app_id));
            let is_rejected = opened.is_some() && opened.as_ref() == rejected;
            let (replacing, force) = match (stored, &opened) {
                (Some(token), Some(_)) if is_rejected => (Replacing::Version(&token.version), true),
                (Some(token), None) => {
                    tracing::warn!(
                        app_id,
                        "the stored app access token does not open with this SEALING_KEY; fetching it again"
                    );
                    (Replacing::Version(&token.version), false)
                }
                (Some(token), Some(secret)) if now < token.refresh_at => return Ok(secret.clone()),
                _ => (Replacing::DueBy(now), rejected.is_some()),
            };
            let request = LeaseRequest {
                now,
                until: now + LEASE_SECONDS,
                replacing,
            };
            if let Some(lease) = self.store.take_app_token_lease(app_id, &request).await? {
                return self.fetch(&lease, force, deadline).await;
            }
            // Another process is fetching: a token that is due but alive serves meanwhile.
            if let (Some(token), Some(secret)) = (stored, opened)
                && !is_rejected
                && now < token.expires_at
            {
                return Ok(secret);
            }
            if Instant::now() + POLL_INTERVAL >= deadline {
                return Err(AppTokenError::Busy);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    async fn fetch(
        &self,
        lease: &stored::Lease,
        force_refresh: bool,
        deadline: Instant,
    ) -> Result<Secret, AppTokenError> {
        let app_id = self.client.app_id();
        // Within the lease, so that no other process fetches while this one still may.
        let lease_left = Duration::from_secs((LEASE_SECONDS - 1) as u64);
        let fetch_deadline = deadline.min(Instant::now() + lease_left);
        let fetched = self
            .client
            .stable_token(force_refresh, fetch_deadline)
            .await
            .map_err(AppTokenError::WeChat)?;
        tracing::info!(
            app_id,
            force_refresh,
            expires_in = fetched.expires_in,
            "fetched the app access token"
        );
        let now = now_epoch_seconds();
        let margin = REFRESH_MARGIN_SECONDS.min(fetched.expires_in / 2);
        let sealed = seal::seal(&fetched.token, self.key, app_id);
        let token = NewAppToken {
            sealed: &sealed,
            refresh_at: now + fetched.expires_in - margin,
            expires_at: now + fetched.expires_in,
        };
        match self.store.put_app_token(app_id, lease, &token).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                tracing::info!(
                    app_id,
                    "the app token's lease expired before it was stored; another process fetches the next"
                )
            }
            // This request still has its token; the next ones fetch after the lease.
            Err(err) => {
                tracing::warn!(app_id, error = %err, "could not store the app access token")
            }
        }
        Ok(fetched.token)
    }
}

impl WeChatError {
    /// 40001 (the token is not WeChat's latest) or 42001 (expired): fetch it again once.
    pub fn is_stale_app_token(&self) -> bool {
        matches!(self.errcode(), Some(40001 | 42001))
    }
}
