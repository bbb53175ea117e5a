//! One deadline for a whole callback. README promises an answer within 10 seconds whatever
//! WeChat or DynamoDB do; separate bounds for each step (the store's 3 s, WeChat's 6.5 s,
//! the store again to keep the outcome) added up to 12.5 s, and a repeat's wait to ~13 s.
//! Every step of a callback now draws on the same clock instead.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::store::StoreError;

/// How long a callback may take, from when the gateway starts on it. Half a second under
/// the promised 10 s leaves room for the adapter, API Gateway and the network.
pub const CALLBACK_BUDGET: Duration = Duration::from_millis(9500);

/// Kept back from WeChat's share for recording the outcome (normally a few milliseconds
/// of DynamoDB), so that a repeated callback can be answered from it.
pub const RECORD_RESERVE: Duration = Duration::from_secs(1);

/// Waiting for another request's outcome, it may still be at WeChat this much longer than
/// WeChat's budget (its store calls, scheduling).
pub const REPEAT_GRACE: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, Debug)]
pub struct CallbackDeadline {
    end: Instant,
}

impl CallbackDeadline {
    pub fn starting_now() -> Self {
        Self {
            end: Instant::now() + CALLBACK_BUDGET,
        }
    }

    /// The end of the whole callback.
    pub fn end(&self) -> Instant {
        self.end
    }

    /// WeChat's deadline for calls starting now: its own budget, cut short so the outcome
    /// can still be recorded before the end.
    pub fn for_wechat(&self, wechat_budget: Duration) -> Instant {
        (Instant::now() + wechat_budget).min(self.end - RECORD_RESERVE)
    }

    /// How long a repeat may wait for the first request's outcome.
    pub fn for_repeat(&self, wechat_budget: Duration) -> Instant {
        (Instant::now() + wechat_budget + REPEAT_GRACE).min(self.end)
    }

    /// A store call, given up at the end of the callback as if the store were down.
    pub async fn store<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout_at(self.end, call)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "no answer within the callback's deadline".into(),
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn wechat_gets_its_budget_unless_the_deadline_is_near() {
        let deadline = CallbackDeadline::starting_now();
        let budget = Duration::from_millis(6500);
        assert_eq!(deadline.for_wechat(budget), Instant::now() + budget);
        // After a slow store (2.9 s), WeChat's share ends where the reserve begins.
        tokio::time::advance(Duration::from_millis(2900)).await;
        assert_eq!(deadline.for_wechat(budget), deadline.end() - RECORD_RESERVE);
        assert_eq!(deadline.for_repeat(budget), deadline.end());
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_call_past_the_end_is_unavailable() {
        let deadline = CallbackDeadline::starting_now();
        let slow = async {
            tokio::time::sleep(CALLBACK_BUDGET + Duration::from_secs(1)).await;
            Ok(())
        };
        let started = Instant::now();
        assert!(matches!(
            deadline.store(slow).await,
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(started.elapsed(), CALLBACK_BUDGET);
        assert_eq!(deadline.store(async { Ok(7) }).await.unwrap(), 7);
    }
}
