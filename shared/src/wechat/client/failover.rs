//! Which API base a call goes to: the primary, then WeChat's published fallbacks, and
//! when a failed attempt may move on to the next one. A code works once, so its exchange
//! fails over only when it provably never reached WeChat; a profile read also when
//! WeChat seems down.

use tokio::time::Instant;

use super::WeChatClient;
use crate::wechat::error::WeChatError;

/// When a failed attempt may be repeated against the next base.
#[derive(Clone, Copy)]
pub(super) enum Failover {
    /// A code works once: only when the attempt provably never reached WeChat.
    OnlyIfNeverSent,
    /// Reading a profile is idempotent: also after timeouts, broken connections and 5xx.
    WheneverWeChatSeemsDown,
}

impl WeChatClient {
    pub(super) async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        failover: Failover,
        deadline: Instant,
    ) -> Result<Vec<u8>, WeChatError> {
        self.call(path, query, None, failover, deadline).await
    }

    /// A POST of `json` (WeChat's `cgi-bin` and `wxa` calls).
    pub(super) async fn post_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
        json: &str,
        failover: Failover,
        deadline: Instant,
    ) -> Result<Vec<u8>, WeChatError> {
        self.call(path, query, Some(json), failover, deadline).await
    }

    async fn call(
        &self,
        path: &str,
        query: &[(&str, &str)],
        json: Option<&str>,
        failover: Failover,
        deadline: Instant,
    ) -> Result<Vec<u8>, WeChatError> {
        let mut last_error = WeChatError::Timeout;
        for (i, base) in self.api_bases.iter().enumerate() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(WeChatError::Timeout);
            }
            // Leave later bases a fair share of the budget when they may be tried.
            let attempt_budget = match failover {
                Failover::OnlyIfNeverSent => remaining,
                Failover::WheneverWeChatSeemsDown => remaining / (self.api_bases.len() - i) as u32,
            };
            match self.attempt(base, path, query, json, attempt_budget).await {
                Ok(body) => return Ok(body),
                Err(err) if may_fail_over(&err, failover) => {
                    tracing::warn!(base = %base, error = %err, "WeChat API attempt failed; trying the next base");
                    last_error = err;
                }
                Err(err) => return Err(err),
            }
        }
        Err(last_error)
    }
}

fn may_fail_over(err: &WeChatError, failover: Failover) -> bool {
    match failover {
        Failover::OnlyIfNeverSent => matches!(err, WeChatError::Connect(_)),
        Failover::WheneverWeChatSeemsDown => match err {
            WeChatError::Connect(_) | WeChatError::Timeout | WeChatError::Transport(_) => true,
            WeChatError::HttpStatus(status) => *status >= 500,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_over_a_code_exchange_only_when_it_never_left() {
        let connect = WeChatError::Connect("refused".into());
        assert!(may_fail_over(&connect, Failover::OnlyIfNeverSent));
        assert!(!may_fail_over(
            &WeChatError::Timeout,
            Failover::OnlyIfNeverSent
        ));
        assert!(may_fail_over(
            &WeChatError::Timeout,
            Failover::WheneverWeChatSeemsDown
        ));
        assert!(may_fail_over(
            &WeChatError::HttpStatus(502),
            Failover::WheneverWeChatSeemsDown
        ));
        assert!(!may_fail_over(
            &WeChatError::HttpStatus(404),
            Failover::WheneverWeChatSeemsDown
        ));
    }
}
