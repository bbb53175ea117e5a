//! Where a request's time goes: waiting on WeChat, waiting on the state store, and the
//! rest, which is the gateway's own work. Every request's log line carries the split, so
//! an operator can tell a slow WeChat from a slow gateway, and the latency benchmark reads
//! the gateway's own share from the same place.
//!
//! The waits are measured around the awaited calls of the request's own task, from the
//! caller's side (so they include the network), and added to a ledger that lives only
//! for that request (a Tokio task-local): nothing is shared between requests.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

// Tokio's clock is the system's monotonic clock unless a test pauses it, which makes the
// ledger's arithmetic testable exactly instead of with wall-clock bounds.
use tokio::time::Instant;

tokio::task_local! {
    static LEDGER: Ledger;
}

/// What a request waited on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    WeChat,
    Store,
}

#[derive(Default)]
struct Ledger {
    wechat: Cell<Duration>,
    store: Cell<Duration>,
}

/// One request's time, split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestTimes {
    pub total: Duration,
    pub wechat: Duration,
    pub store: Duration,
}

impl RequestTimes {
    /// The gateway's own work: the total less the waits.
    pub fn own(&self) -> Duration {
        self.total.saturating_sub(self.wechat + self.store)
    }
}

/// Runs one request's work with a fresh ledger and returns what it waited on.
pub async fn measure<F: Future>(work: F) -> (F::Output, RequestTimes) {
    let started = Instant::now();
    let (output, wechat, store) = LEDGER
        .scope(Ledger::default(), async {
            let output = work.await;
            let (wechat, store) = LEDGER.with(|l| (l.wechat.get(), l.store.get()));
            (output, wechat, store)
        })
        .await;
    let times = RequestTimes {
        total: started.elapsed(),
        wechat,
        store,
    };
    (output, times)
}

/// Awaits `call`, booking its time as a wait on `what` in the current request's ledger
/// (outside [`measure`] it is just awaited).
pub async fn waiting_on<F: Future>(what: Wait, call: F) -> F::Output {
    let started = Instant::now();
    let output = call.await;
    let spent = started.elapsed();
    let _ = LEDGER.try_with(|l| {
        let slot = match what {
            Wait::WeChat => &l.wechat,
            Wait::Store => &l.store,
        };
        slot.set(slot.get() + spent);
    });
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    // On a paused clock every sleep takes exactly its length, so these are equalities, not
    // wall-clock bounds that a busy runner would break.

    #[tokio::test(start_paused = true)]
    async fn waits_are_booked_to_their_request_only() {
        let sleep = |ms| tokio::time::sleep(Duration::from_millis(ms));
        let (_, times) = measure(async {
            waiting_on(Wait::WeChat, sleep(30)).await;
            waiting_on(Wait::Store, sleep(5)).await;
            waiting_on(Wait::WeChat, sleep(20)).await;
        })
        .await;
        assert_eq!(times.wechat, Duration::from_millis(50), "{times:?}");
        assert_eq!(times.store, Duration::from_millis(5), "{times:?}");
        assert_eq!(times.total, Duration::from_millis(55), "{times:?}");
        assert_eq!(times.own(), Duration::ZERO, "{times:?}");

        let (_, other) = measure(async {}).await;
        assert_eq!(other.wechat, Duration::ZERO);
        assert_eq!(other.store, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn own_time_is_what_is_left() {
        let (_, times) = measure(async {
            waiting_on(Wait::Store, tokio::time::sleep(Duration::from_millis(20))).await;
            // The gateway's own work: time that passes outside any wait.
            tokio::time::advance(Duration::from_millis(5)).await;
        })
        .await;
        assert_eq!(times.store, Duration::from_millis(20), "{times:?}");
        assert_eq!(times.own(), Duration::from_millis(5), "{times:?}");
        assert_eq!(times.own() + times.store + times.wechat, times.total);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_does_not_see_another_requests_waits() {
        let one = measure(async {
            waiting_on(Wait::WeChat, tokio::time::sleep(Duration::from_millis(40))).await;
        });
        let two = measure(async {
            waiting_on(Wait::Store, tokio::time::sleep(Duration::from_millis(10))).await;
        });
        let ((_, one), (_, two)) = tokio::join!(one, two);
        assert_eq!(
            (one.wechat, one.store),
            (Duration::from_millis(40), Duration::ZERO)
        );
        assert_eq!(
            (two.wechat, two.store),
            (Duration::ZERO, Duration::from_millis(10))
        );
    }

    #[tokio::test]
    async fn waiting_outside_a_request_is_harmless() {
        assert_eq!(waiting_on(Wait::WeChat, async { 7 }).await, 7);
    }
}
