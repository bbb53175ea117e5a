//! A repeat of a callback already answered (WeChat's in-app browser sometimes loads the
//! callback twice, and the code is spent by then): within [`REPLAY_WINDOW_SECONDS`], the
//! same browser with the same code gets the first answer again, opened from its sealed
//! copy, without asking WeChat.

use std::time::Duration;

use tokio::time::Instant;

use crate::error::{RequestError, StateProblem};
use crate::gateway::Gateway;
use crate::login::deadline::CallbackDeadline;
use crate::login::outcome::ResultFields;
use crate::login_state::{Consumed, LoginState};
use crate::sealing_key::SealingKey;
use crate::store::Claim;
use crate::timing::{Wait, waiting_on};

use super::recheck::{restartable, return_still_allowed};
use super::sealed_answer::{REPLAY_WINDOW_SECONDS, open};

/// A callback for a login that was consumed before.
pub(crate) struct Repeat {
    pub login: LoginState,
    pub consumed_at: i64,
    pub outcome: Option<Vec<u8>>,
}

impl Repeat {
    /// The first answer's fields again, or why this repeat is refused.
    pub(crate) async fn answer(
        &mut self,
        gateway: &Gateway,
        sealing_key: &SealingKey,
        claim: &Claim<'_>,
        code: Option<&str>,
        deadline: &CallbackDeadline,
    ) -> Result<ResultFields, RequestError> {
        let config = gateway.config();
        let refused = || restartable(config, StateProblem::Completed, &self.login);
        let in_window = claim.now < self.consumed_at + REPLAY_WINDOW_SECONDS;
        // Only a browser that proves it started the login gets the answer again. Without
        // binding, anyone holding the callback URL would: that would make the URL (which
        // WeChat, proxies and browser history see) a bearer token for the window.
        let same_browser = claim.browser.proves(self.login.browser_binding.as_deref());
        let still_allowed = return_still_allowed(config, &self.login);
        if !in_window || self.login.scope != claim.scope || !same_browser || !still_allowed {
            return Err(refused());
        }
        let state = &self.login.state;
        let mut sealed = self.outcome.take();
        // The first request may still be talking to WeChat: wait for its outcome, no
        // longer than it can take, and never past this callback's own deadline.
        let wait_until = deadline.for_repeat(config.wechat_timeout);
        while sealed.is_none() && Instant::now() < wait_until {
            // Booked as a wait on the store: the time is the other request's, not ours.
            waiting_on(Wait::Store, tokio::time::sleep(Duration::from_millis(100))).await;
            // A read still out when the wait is over ends the wait, like any other: the
            // repeat is refused (a real store error is still a 503).
            let Ok(found) = tokio::time::timeout_at(wait_until, gateway.store().find(state)).await
            else {
                break;
            };
            match found? {
                Consumed::Used { outcome, .. } => sealed = outcome,
                _ => break,
            }
        }
        sealed
            .filter(|s| !s.is_empty())
            .and_then(|s| open(&s, sealing_key, state, code.unwrap_or("")))
            .ok_or_else(refused)
    }
}
