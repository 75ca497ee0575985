//! A read cache for the hot paths of every request: token lookup, role lookup and heads.
//! Enabled only for a SQLite database, which one server process owns (the server holds an
//! exclusive lock beside the file), so every write that could make an entry stale goes
//! through this process and updates the cache in the same call. PostgreSQL, shared by
//! replicas whose writes this process never sees, always reads the database.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use envsync_api::{Grant, TokenInfo};

use super::Account;

/// Past this many entries a map is emptied rather than grown: a bound on memory that costs
/// only a few extra queries.
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub(super) struct ReadCache {
    tokens: Map<String, (String, TokenInfo, Account)>,
    grants: Map<(String, String), Option<Grant>>,
    heads: Map<(String, String), Option<u64>>,
}

/// A map with a generation count, bumped by every eviction. A reader notes the generation
/// before its query and stores the result only if no write evicted anything meanwhile, so
/// a result read just before a write can never outlive it in the cache. Writers evict after
/// their write commits.
pub(super) struct Map<K, V>(Mutex<(u64, HashMap<K, V>)>);

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Self(Mutex::new((0, HashMap::new())))
    }
}

impl<K: Eq + Hash, V: Clone> Map<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<K, V>)> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.lock().1.get(key).cloned()
    }

    pub fn generation(&self) -> u64 {
        self.lock().0
    }

    /// Stores `value` read from the database when the generation was `generation`.
    pub fn put(&self, generation: u64, key: K, value: V) {
        let mut guard = self.lock();
        let (current, map) = &mut *guard;
        if *current != generation {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, value);
    }

    pub fn forget(&self, key: &K) {
        let mut guard = self.lock();
        guard.0 += 1;
        guard.1.remove(key);
    }

    pub fn clear(&self) {
        let mut guard = self.lock();
        guard.0 += 1;
        guard.1.clear();
    }
}

impl ReadCache {
    pub fn tokens(&self) -> &Map<String, (String, TokenInfo, Account)> {
        &self.tokens
    }

    pub fn grants(&self) -> &Map<(String, String), Option<Grant>> {
        &self.grants
    }

    pub fn heads(&self) -> &Map<(String, String), Option<u64>> {
        &self.heads
    }
}

/// Records and ciphertexts by their immutable keys. A stored version never changes and is
/// never deleted, so an entry can never be stale and any number of replicas may each keep
/// one of these: it needs no invalidation, only a bound on memory.
pub(super) struct Immutable {
    entries: Mutex<(usize, HashMap<String, bytes::Bytes>)>,
}

/// Bytes kept before the cache starts over.
const IMMUTABLE_BUDGET: usize = 64 * 1024 * 1024;

impl Default for Immutable {
    fn default() -> Self {
        Self {
            entries: Mutex::new((0, HashMap::new())),
        }
    }
}

impl Immutable {
    pub fn get(&self, key: &str) -> Option<bytes::Bytes> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        entries.1.get(key).cloned()
    }

    pub fn put(&self, key: String, value: bytes::Bytes) {
        if value.len() > IMMUTABLE_BUDGET / 16 {
            return;
        }
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if entries.0 + value.len() > IMMUTABLE_BUDGET {
            *entries = (0, HashMap::new());
        }
        entries.0 += value.len();
        entries.1.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_older_than_an_eviction_is_not_stored() {
        let map: Map<&str, u32> = Map::default();
        let before = map.generation();
        map.forget(&"role");
        map.put(before, "role", 1);
        assert_eq!(map.get(&"role"), None);
        map.put(map.generation(), "role", 2);
        assert_eq!(map.get(&"role"), Some(2));
    }
}
