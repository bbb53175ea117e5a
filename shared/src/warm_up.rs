//! Init-time warm-up: the connections a function's first request would open (DynamoDB,
//! and for the callbacks WeChat's API) are opened while Lambda's init phase runs at full
//! CPU speed, instead of in the first invocation, which runs at the memory size's CPU
//! share (128 MB ≈ 7 %: a TLS handshake there took hundreds of milliseconds,
//! docs/performance.md). Bounded by [`WARM_UP_BUDGET`] and never fatal: a connection
//! that could not be opened is opened by the first request, as without warm-up.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use crate::gateway::Gateway;

/// The most warm-up may add to a cold start. Both connections are opened at once; at full
/// CPU a handshake takes a few milliseconds plus the network's round trips.
pub const WARM_UP_BUDGET: Duration = Duration::from_millis(1500);

/// How warming one connection went.
#[derive(Debug, PartialEq, Eq)]
pub enum Warmed {
    Ready,
    /// The error, for the log (it names no secret: no request carries one).
    Failed(String),
    /// Not done within the budget.
    TimedOut,
}

impl fmt::Display for Warmed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ready => f.write_str("ready"),
            Self::Failed(err) => write!(f, "failed: {err}"),
            Self::TimedOut => f.write_str("timed out"),
        }
    }
}

/// What warm-up did.
#[derive(Debug)]
pub struct WarmUp {
    pub store: Warmed,
    /// `None` where no WeChat client is built (the functions that only start logins or
    /// serve the OpenID Provider's endpoints).
    pub wechat: Option<Warmed>,
    pub elapsed: Duration,
}

impl WarmUp {
    pub fn all_ready(&self) -> bool {
        self.store == Warmed::Ready && self.wechat.as_ref().is_none_or(|w| *w == Warmed::Ready)
    }
}

/// Warms the store and WeChat's API at once, within `budget`.
pub async fn warm_up(gateway: &Gateway, budget: Duration) -> WarmUp {
    let started = Instant::now();
    let deadline = started + budget;
    let store = async {
        match tokio::time::timeout_at(deadline, gateway.store().warm_up()).await {
            Ok(Ok(())) => Warmed::Ready,
            Ok(Err(err)) => Warmed::Failed(err.to_string()),
            Err(_) => Warmed::TimedOut,
        }
    };
    let wechat = async {
        let clients = gateway.wechat_clients()?;
        let warmed = tokio::time::timeout_at(deadline, clients.warm_up()).await;
        Some(match warmed {
            Ok(None) => return None,
            Ok(Some(Ok(()))) => Warmed::Ready,
            Ok(Some(Err(err))) => Warmed::Failed(err.without_url().to_string()),
            Err(_) => Warmed::TimedOut,
        })
    };
    let (store, wechat) = tokio::join!(store, wechat);
    WarmUp {
        store,
        wechat,
        elapsed: started.elapsed(),
    }
}
