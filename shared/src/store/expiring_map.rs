//! The in-memory store's map: entries that carry the time they may be forgotten, swept
//! away lazily when an insert finds the map grown.
//!
//! Why not sweep at a fixed size: once the live entries alone pass that size (a busy local
//! server keeps a few minutes of logins: 2,500 logins/s pass 10,000 in four seconds),
//! every insert would scan the whole map while holding its lock. That cost a third of
//! `wxauth-local`'s CPU at full load (docs/performance.md, section 4). Sweeping only when
//! the map has doubled since the last sweep keeps an insert O(1) amortised and the map
//! within twice the live entries (or [`SWEEP_ABOVE`]).

use std::collections::HashMap;
use std::hash::Hash;

/// The smallest map that is ever swept: below it, abandoned entries cost too little memory
/// to be worth a scan.
pub(crate) const SWEEP_ABOVE: usize = 10_000;

/// What an entry says of its own lifetime: it may be forgotten once `now >= keep_until()`
/// (epoch seconds), as DynamoDB's TTL may delete the item then.
pub(crate) trait Expiring {
    fn keep_until(&self) -> i64;
}

pub(crate) struct ExpiringMap<K, V> {
    entries: HashMap<K, V>,
    /// The size at which the next insert sweeps first.
    sweep_at: usize,
}

impl<K, V> Default for ExpiringMap<K, V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            sweep_at: SWEEP_ABOVE,
        }
    }
}

impl<K: Eq + Hash, V: Expiring> ExpiringMap<K, V> {
    /// Inserts unless the key is present (expired or not: the store's conditional put
    /// never overwrites); false then. May first forget expired entries.
    pub(crate) fn insert_new(&mut self, key: K, value: V, now: i64) -> bool {
        if self.entries.len() >= self.sweep_at {
            self.entries.retain(|_, e| now < e.keep_until());
            self.sweep_at = SWEEP_ABOVE.max(2 * self.entries.len());
        }
        match self.entries.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(value);
                true
            }
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.entries.get_mut(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Until(i64);

    impl Expiring for Until {
        fn keep_until(&self) -> i64 {
            self.0
        }
    }

    const NOW: i64 = 1_000;
    const LIVE: Until = Until(NOW + 60);
    const EXPIRED: Until = Until(NOW);

    fn filled(live: usize, expired: usize) -> ExpiringMap<usize, Until> {
        let mut map = ExpiringMap::default();
        for key in 0..live + expired {
            let value = if key < live { LIVE } else { EXPIRED };
            assert!(map.insert_new(key, value, NOW));
        }
        map
    }

    #[test]
    fn an_existing_key_is_never_overwritten_even_when_expired() {
        let mut map = filled(0, 1);
        assert!(!map.insert_new(0, LIVE, NOW));
        assert_eq!(map.get(&0).unwrap().0, EXPIRED.0);
    }

    #[test]
    fn the_first_sweep_comes_at_sweep_above_entries_not_one_before() {
        // One short of the threshold: the insert that reaches it does not sweep.
        let mut map = filled(0, SWEEP_ABOVE - 1);
        assert!(map.insert_new(usize::MAX, LIVE, NOW));
        assert_eq!(map.len(), SWEEP_ABOVE);
        // At the threshold: the next insert sweeps every expired entry first.
        assert!(map.insert_new(usize::MAX - 1, LIVE, NOW));
        assert_eq!(map.len(), 2);
        // The expired entries are gone: their keys can be used again.
        assert!(map.insert_new(0, LIVE, NOW));
    }

    #[test]
    fn live_entries_are_not_rescanned_until_the_map_has_doubled() {
        // A sweep that finds everything live...
        let mut map = filled(SWEEP_ABOVE, 0);
        assert!(map.insert_new(SWEEP_ABOVE, LIVE, NOW));
        assert_eq!(map.len(), SWEEP_ABOVE + 1);
        // ...sets the next one at twice the live entries: expired entries wait until then.
        let next_sweep = 2 * SWEEP_ABOVE;
        for key in map.len()..next_sweep {
            assert!(map.insert_new(key, EXPIRED, NOW));
        }
        assert_eq!(map.len(), next_sweep);
        assert!(map.insert_new(usize::MAX, LIVE, NOW));
        assert_eq!(map.len(), SWEEP_ABOVE + 2);
    }

    #[test]
    fn an_entry_is_kept_while_now_is_before_its_keep_until() {
        let sweep_at = |now: i64| {
            let mut map = ExpiringMap::default();
            for key in 0..SWEEP_ABOVE {
                assert!(map.insert_new(key, Until(NOW + 1), now));
            }
            assert!(map.insert_new(usize::MAX, Until(NOW + 60), now));
            map.len()
        };
        assert_eq!(sweep_at(NOW), SWEEP_ABOVE + 1, "one second before: kept");
        assert_eq!(sweep_at(NOW + 1), 1, "at keep_until: forgotten");
    }
}
