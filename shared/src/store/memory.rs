use std::collections::HashMap;
use std::sync::Mutex;

use super::{StateStore, StoreError};
use crate::login_state::{LoginState, StateId, now_epoch_seconds};

/// Process-local store: only for one process (the local server, tests of pure logic).
#[derive(Default)]
pub struct MemoryStateStore {
    logins: Mutex<HashMap<StateId, LoginState>>,
}

/// Above this many entries a put first sweeps expired ones, so abandoned logins cannot
/// grow the map without bound.
const SWEEP_ABOVE: usize = 10_000;

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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StateId, LoginState>> {
        // A panic while holding the lock cannot leave the map half-written (single
        // insert/remove calls), so a poisoned lock is still usable.
        self.logins.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait::async_trait]
impl StateStore for MemoryStateStore {
    async fn put_new(&self, login: &LoginState) -> Result<(), StoreError> {
        let mut logins = self.lock();
        if logins.len() >= SWEEP_ABOVE {
            let now = now_epoch_seconds();
            logins.retain(|_, l| !l.is_expired(now));
        }
        if logins.contains_key(&login.state) {
            return Err(StoreError::AlreadyExists);
        }
        logins.insert(login.state.clone(), login.clone());
        Ok(())
    }

    async fn take(&self, state: &StateId) -> Result<Option<LoginState>, StoreError> {
        Ok(self.lock().remove(state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowed_origins::AllowedOrigins;
    use crate::return_url::ReturnUrl;
    use crate::scope::{ResponseMode, Scope};

    fn login(expires_at: i64) -> LoginState {
        let origins = AllowedOrigins::parse("https://a.example.com").unwrap();
        LoginState {
            state: StateId::generate(),
            scope: Scope::Base,
            return_url: ReturnUrl::parse("https://a.example.com/", &origins).unwrap(),
            response_mode: ResponseMode::Query,
            expires_at,
        }
    }

    #[tokio::test]
    async fn a_login_is_taken_once() {
        let store = MemoryStateStore::new();
        let l = login(now_epoch_seconds() + 60);
        store.put_new(&l).await.unwrap();
        assert!(matches!(
            store.put_new(&l).await,
            Err(StoreError::AlreadyExists)
        ));
        assert_eq!(store.take(&l.state).await.unwrap(), Some(l.clone()));
        assert_eq!(store.take(&l.state).await.unwrap(), None);
    }

    #[tokio::test]
    async fn expired_logins_are_swept_when_the_map_is_large() {
        let store = MemoryStateStore::new();
        for _ in 0..SWEEP_ABOVE {
            store.put_new(&login(0)).await.unwrap();
        }
        let fresh = login(now_epoch_seconds() + 60);
        store.put_new(&fresh).await.unwrap();
        assert_eq!(store.len(), 1);
    }
}
