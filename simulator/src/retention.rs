//! How long the simulator remembers the codes and tokens it issued. WeChat forgets them
//! too; a simulator that never did would grow by a few hundred bytes per login, which a
//! long load test or demo of wxauth-local notices.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Forgets entries `keep_for` after they were issued. It sweeps only once the map has
/// doubled since the last sweep (and holds at least [`Retention::SWEEP_ABOVE`]): issuing
/// stays O(1) amortised, and the map holds at most about twice what it must keep.
pub(crate) struct Retention {
    keep_for: Duration,
    next_sweep_at: usize,
}

impl Retention {
    pub(crate) const SWEEP_ABOVE: usize = 1024;

    pub(crate) fn new(keep_for: Duration) -> Self {
        Self {
            keep_for,
            next_sweep_at: Self::SWEEP_ABOVE,
        }
    }

    /// Call before inserting into `map` at `now`.
    pub(crate) fn sweep<K: Eq + Hash, V>(
        &mut self,
        map: &mut HashMap<K, V>,
        now: Instant,
        issued_at: impl Fn(&V) -> Instant,
    ) {
        if map.len() < self.next_sweep_at {
            return;
        }
        let keep_for = self.keep_for;
        map.retain(|_, v| now.saturating_duration_since(issued_at(v)) < keep_for);
        self.next_sweep_at = map.len().saturating_mul(2).max(Self::SWEEP_ABOVE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: usize, at: Instant) -> HashMap<usize, Instant> {
        (0..n).map(|i| (i, at)).collect()
    }

    #[test]
    fn nothing_is_swept_below_the_threshold() {
        let t0 = Instant::now();
        let mut retention = Retention::new(Duration::from_secs(10));
        let mut map = filled(Retention::SWEEP_ABOVE - 1, t0);
        retention.sweep(&mut map, t0 + Duration::from_secs(60), |v| *v);
        assert_eq!(map.len(), Retention::SWEEP_ABOVE - 1);
    }

    #[test]
    fn at_the_threshold_what_is_past_its_time_goes_and_the_rest_stays() {
        let t0 = Instant::now();
        let keep_for = Duration::from_secs(10);
        let mut retention = Retention::new(keep_for);
        let mut map = filled(Retention::SWEEP_ABOVE - 2, t0);
        map.insert(usize::MAX, t0 + Duration::from_secs(1));
        map.insert(usize::MAX - 1, t0 + Duration::from_nanos(1));
        assert_eq!(map.len(), Retention::SWEEP_ABOVE);
        // Exactly keep_for after t0: those issued at t0 go, the younger ones stay.
        retention.sweep(&mut map, t0 + keep_for, |v| *v);
        let mut left: Vec<usize> = map.keys().copied().collect();
        left.sort();
        assert_eq!(left, [usize::MAX - 1, usize::MAX]);
    }

    #[test]
    fn live_entries_are_not_rescanned_until_the_map_doubles() {
        let t0 = Instant::now();
        let mut retention = Retention::new(Duration::from_secs(10));
        let mut map = filled(Retention::SWEEP_ABOVE * 2, t0);
        retention.sweep(&mut map, t0, |v| *v);
        assert_eq!(map.len(), Retention::SWEEP_ABOVE * 2, "all live");
        // Past their time, but the map has not doubled since: kept until it does.
        let later = t0 + Duration::from_secs(60);
        map.extend((0..Retention::SWEEP_ABOVE * 2 - 1).map(|i| (usize::MAX - i, later)));
        retention.sweep(&mut map, later, |v| *v);
        assert_eq!(map.len(), Retention::SWEEP_ABOVE * 4 - 1);
        map.insert(usize::MAX / 2, later);
        retention.sweep(&mut map, later, |v| *v);
        assert_eq!(map.len(), Retention::SWEEP_ABOVE * 2, "the old half went");
    }
}
