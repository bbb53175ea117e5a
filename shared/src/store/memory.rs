use std::collections::HashMap;
use std::sync::Mutex;

use super::expiring_map::{Expiring, ExpiringMap};
use super::{Claim, StateStore, StoreError};
use crate::app_token::stored::{AppTokenRecord, Lease, LeaseRequest, NewAppToken, StoredAppToken};
use crate::login_state::{Consumed, LoginState, StateId, now_epoch_seconds};
use crate::oidc::grant::{Grant, GrantId, GrantStatus, Redeemed, Redemption};

/// Process-local store: only for one process (the local server, tests of pure logic).
#[derive(Default)]
pub struct MemoryStateStore {
    logins: Mutex<ExpiringMap<StateId, Entry>>,
    grants: Mutex<ExpiringMap<GrantId, GrantEntry>>,
    /// One entry per app ever asked about, so no sweep: a few apps, for the process's life.
    app_tokens: Mutex<HashMap<String, AppTokenEntry>>,
}

#[derive(Clone, Default)]
struct AppTokenEntry {
    record: AppTokenRecord,
    lease: Option<Lease>,
}

#[derive(Clone)]
struct GrantEntry {
    grant: Grant,
    redeemed: bool,
    revoked: bool,
    keep_until: i64,
}

#[derive(Clone)]
struct Entry {
    login: LoginState,
    consumed_at: Option<i64>,
    keep_until: i64,
    outcome: Option<Vec<u8>>,
}

impl MemoryStateStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ExpiringMap<StateId, Entry>> {
        // Every change is a single insert or field update, so a panic elsewhere cannot
        // leave the map half-written: a poisoned lock is still usable.
        self.logins.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn grants(&self) -> std::sync::MutexGuard<'_, ExpiringMap<GrantId, GrantEntry>> {
        self.grants.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn app_tokens(&self) -> std::sync::MutexGuard<'_, HashMap<String, AppTokenEntry>> {
        self.app_tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Expiring for Entry {
    fn keep_until(&self) -> i64 {
        self.keep_until
    }
}

impl Expiring for GrantEntry {
    fn keep_until(&self) -> i64 {
        self.keep_until
    }
}

impl Entry {
    fn as_used(&self) -> Consumed {
        match self.consumed_at {
            None => Consumed::Fresh(self.login.clone()),
            Some(consumed_at) => Consumed::Used {
                login: self.login.clone(),
                consumed_at,
                outcome: self.outcome.clone(),
            },
        }
    }
}

#[async_trait::async_trait]
impl StateStore for MemoryStateStore {
    async fn put_new(&self, login: &LoginState) -> Result<(), StoreError> {
        let entry = Entry {
            login: login.clone(),
            consumed_at: None,
            keep_until: login.expires_at,
            outcome: None,
        };
        if self
            .lock()
            .insert_new(login.state.clone(), entry, now_epoch_seconds())
        {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists)
        }
    }

    async fn consume(
        &self,
        state: &StateId,
        claim: &Claim<'_>,
        keep_until: i64,
    ) -> Result<Consumed, StoreError> {
        // One lock for the check and the change: the same atomicity as DynamoDB's
        // conditional update.
        let mut logins = self.lock();
        let Some(entry) = logins.get_mut(state) else {
            return Ok(Consumed::Unknown);
        };
        if entry.consumed_at.is_some() {
            return Ok(entry.as_used());
        }
        if !claim.fits(&entry.login) {
            return Ok(Consumed::Kept(entry.login.clone()));
        }
        entry.consumed_at = Some(claim.now);
        entry.keep_until = keep_until;
        Ok(Consumed::Fresh(entry.login.clone()))
    }

    async fn record_outcome(&self, state: &StateId, sealed: &[u8]) -> Result<(), StoreError> {
        match self.lock().get_mut(state) {
            Some(entry) if entry.consumed_at.is_some() => {
                entry.outcome = Some(sealed.to_vec());
                Ok(())
            }
            _ => Err(StoreError::NotConsumed),
        }
    }

    async fn find(&self, state: &StateId) -> Result<Consumed, StoreError> {
        Ok(self
            .lock()
            .get(state)
            .map_or(Consumed::Unknown, Entry::as_used))
    }
    async fn put_grant(&self, id: &GrantId, grant: &Grant) -> Result<(), StoreError> {
        let entry = GrantEntry {
            grant: grant.clone(),
            redeemed: false,
            revoked: false,
            keep_until: grant.code_expires_at,
        };
        if self
            .grants()
            .insert_new(id.clone(), entry, now_epoch_seconds())
        {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists)
        }
    }

    async fn redeem_grant(
        &self,
        id: &GrantId,
        redemption: &Redemption<'_>,
        keep_until: i64,
    ) -> Result<Redeemed, StoreError> {
        let mut grants = self.grants();
        let Some(entry) = grants.get_mut(id) else {
            return Ok(Redeemed::Unknown);
        };
        if entry.redeemed {
            entry.revoked = true;
            return Ok(Redeemed::Replayed);
        }
        if !redemption.fits(&entry.grant) {
            return Ok(Redeemed::Kept(entry.grant.clone()));
        }
        entry.redeemed = true;
        entry.keep_until = keep_until;
        Ok(Redeemed::Fresh(entry.grant.clone()))
    }

    async fn find_grant(&self, id: &GrantId, now: i64) -> Result<Option<GrantStatus>, StoreError> {
        Ok(self
            .grants()
            .get(id)
            .filter(|e| now < e.keep_until)
            .map(|e| GrantStatus {
                grant: e.grant.clone(),
                redeemed: e.redeemed,
                revoked: e.revoked,
            }))
    }

    async fn find_app_token(&self, app_id: &str) -> Result<AppTokenRecord, StoreError> {
        Ok(self
            .app_tokens()
            .get(app_id)
            .map(|e| e.record.clone())
            .unwrap_or_default())
    }

    async fn take_app_token_lease(
        &self,
        app_id: &str,
        request: &LeaseRequest<'_>,
    ) -> Result<Option<Lease>, StoreError> {
        let mut tokens = self.app_tokens();
        let entry = tokens.entry(app_id.to_owned()).or_default();
        if !request.fits(&entry.record) {
            return Ok(None);
        }
        let lease = Lease(random_id());
        entry.record.lease_until = Some(request.until);
        entry.lease = Some(lease.clone());
        Ok(Some(lease))
    }

    async fn put_app_token(
        &self,
        app_id: &str,
        lease: &Lease,
        token: &NewAppToken<'_>,
    ) -> Result<Option<String>, StoreError> {
        let mut tokens = self.app_tokens();
        let Some(entry) = tokens.get_mut(app_id) else {
            return Ok(None);
        };
        if entry.lease.as_ref() != Some(lease) {
            return Ok(None);
        }
        let version = random_id();
        entry.record = AppTokenRecord {
            token: Some(StoredAppToken {
                sealed: token.sealed.to_vec(),
                refresh_at: token.refresh_at,
                expires_at: token.expires_at,
                version: version.clone(),
            }),
            lease_until: None,
        };
        entry.lease = None;
        Ok(Some(version))
    }
}

/// 128 random bits, hex: a lease's or a token version's id.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_origins::AllowedOrigins;
    use crate::return_url::ReturnUrl;
    use crate::scope::{ResponseMode, Scope};
    use crate::store::BrowserCheck;

    fn claim(now: i64) -> Claim<'static> {
        Claim {
            scope: Scope::Base,
            now,
            browser: BrowserCheck::Off,
        }
    }

    fn login(expires_at: i64) -> LoginState {
        let origins = AllowedOrigins::parse("https://a.example.com").unwrap();
        LoginState {
            state: StateId::generate(),
            app: "default".into(),
            scope: Scope::Base,
            return_url: ReturnUrl::parse("https://a.example.com/", &origins).unwrap(),
            response_mode: ResponseMode::Query,
            expires_at,
            browser_binding: None,
            nonce: None,
            oidc: None,
        }
    }

    #[tokio::test]
    async fn a_login_is_consumed_once_then_remembered_with_its_outcome() {
        let store = MemoryStateStore::new();
        let l = login(now_epoch_seconds() + 60);
        store.put_new(&l).await.unwrap();
        assert!(matches!(
            store.put_new(&l).await,
            Err(StoreError::AlreadyExists)
        ));
        assert_eq!(
            store.find(&l.state).await.unwrap(),
            Consumed::Fresh(l.clone())
        );
        assert_eq!(
            store.consume(&l.state, &claim(10), 70).await.unwrap(),
            Consumed::Fresh(l.clone())
        );
        let used = Consumed::Used {
            login: l.clone(),
            consumed_at: 10,
            outcome: None,
        };
        assert_eq!(store.consume(&l.state, &claim(11), 71).await.unwrap(), used);
        store.record_outcome(&l.state, b"sealed").await.unwrap();
        assert_eq!(
            store.find(&l.state).await.unwrap(),
            Consumed::Used {
                login: l.clone(),
                consumed_at: 10,
                outcome: Some(b"sealed".to_vec()),
            }
        );
        assert_eq!(
            store
                .consume(&StateId::generate(), &claim(1), 2)
                .await
                .unwrap(),
            Consumed::Unknown
        );
    }

    #[tokio::test]
    async fn expired_logins_are_swept_when_the_map_is_large() {
        let store = MemoryStateStore::new();
        for _ in 0..crate::store::expiring_map::SWEEP_ABOVE {
            store.put_new(&login(0)).await.unwrap();
        }
        let fresh = login(now_epoch_seconds() + 60);
        store.put_new(&fresh).await.unwrap();
        assert_eq!(store.len(), 1);
    }
}
