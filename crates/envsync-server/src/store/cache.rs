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
use super::versions::VersionLink;

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
///
/// The bound counts the bytes of keys and values (the map's own overhead adds roughly a
/// third); when the next entry would pass it, the cache starts over, which costs only
/// re-reading what is asked again. Every push reads its base version's record, so under a
/// steady load the cache fills, starts over and fills again: the server's memory climbs
/// until the first fill and is flat after it.
pub(super) struct Immutable {
    budget: usize,
    entries: Mutex<ImmutableEntries>,
}

#[derive(Default)]
struct ImmutableEntries {
    bytes: usize,
    map: HashMap<String, bytes::Bytes>,
    /// Each version's link, by (project, environment, number): as unchanging as its record.
    links: HashMap<(String, String, u64), VersionLink>,
    /// How many times the cache has been full and started over.
    resets: u64,
}

impl ImmutableEntries {
    /// Makes room for `size` more bytes within `budget`, starting over when they do not fit.
    fn make_room(&mut self, size: usize, budget: usize) {
        if self.bytes + size > budget {
            self.map = HashMap::new();
            self.links = HashMap::new();
            self.bytes = 0;
            self.resets += 1;
        }
    }
}

/// The default budget: 64 MiB holds some 80,000 records of a typical size, enough for every
/// head and recent base of a large server.
pub const DEFAULT_RECORD_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// How full the cache is, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct CacheUse {
    pub bytes: usize,
    pub budget: usize,
    pub resets: u64,
}

impl Default for Immutable {
    fn default() -> Self {
        Self::with_budget(DEFAULT_RECORD_CACHE_BYTES)
    }
}

impl Immutable {
    /// A cache holding at most `budget` bytes of keys and values; 0 keeps nothing.
    pub fn with_budget(budget: usize) -> Self {
        Self {
            budget,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ImmutableEntries> {
        self.entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<bytes::Bytes> {
        self.lock().map.get(key).cloned()
    }

    pub fn put(&self, key: String, value: bytes::Bytes) {
        let size = key.len() + value.len();
        // One entry may take a sixteenth at most: a large ciphertext must not evict the rest.
        if size > self.budget / 16 {
            return;
        }
        let mut entries = self.lock();
        entries.make_room(size, self.budget);
        let value_length = value.len();
        match entries.map.insert(key, value) {
            // The same key again (two readers raced): its value replaces the old one.
            Some(previous) => entries.bytes = entries.bytes - previous.len() + value_length,
            None => entries.bytes += size,
        }
    }

    pub fn link(&self, key: &(String, String, u64)) -> Option<VersionLink> {
        self.lock().links.get(key).cloned()
    }

    /// Keeps a version's link, counted in the budget like a record (its key and digest,
    /// and the two numbers).
    pub fn put_link(&self, key: (String, String, u64), link: VersionLink) {
        let size = key.0.len() + key.1.len() + link.digest.len() + 16;
        if size > self.budget / 16 {
            return;
        }
        let mut entries = self.lock();
        entries.make_room(size, self.budget);
        if entries.links.insert(key, link).is_none() {
            entries.bytes += size;
        }
    }

    pub fn usage(&self) -> CacheUse {
        let entries = self.lock();
        CacheUse {
            bytes: entries.bytes,
            budget: self.budget,
            resets: entries.resets,
        }
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

    #[test]
    fn the_record_cache_keeps_to_its_budget_and_counts_each_start_over() {
        let cache = Immutable::with_budget(1600);
        let record = bytes::Bytes::from(vec![b'x'; 95]);
        for number in 0..16 {
            cache.put(format!("v{number:04}"), record.clone());
        }
        let full = cache.usage();
        assert_eq!((full.bytes, full.resets), (1600, 0));
        assert!(cache.get("v0000").is_some());
        cache.put("v0016".to_owned(), record.clone());
        let restarted = cache.usage();
        assert_eq!((restarted.bytes, restarted.resets), (100, 1));
        assert!(cache.get("v0000").is_none() && cache.get("v0016").is_some());
        // Too large for a sixteenth of the budget: not kept, nothing evicted.
        cache.put("big".to_owned(), bytes::Bytes::from(vec![0; 200]));
        assert_eq!(cache.usage().bytes, 100);
        let none = Immutable::with_budget(0);
        none.put("v1".to_owned(), record);
        assert_eq!((none.get("v1"), none.usage().bytes), (None, 0));
    }

    #[test]
    fn links_share_the_record_cache_budget_and_its_start_over() {
        let cache = Immutable::with_budget(1600);
        let key = |number| ("app".to_owned(), "dev".to_owned(), number);
        let link = VersionLink {
            digest: "d".repeat(64),
            membership: 1,
        };
        cache.put_link(key(1), link.clone());
        // "app", "dev", the 64-character digest and the two numbers.
        assert_eq!(cache.usage().bytes, 3 + 3 + 64 + 16);
        assert_eq!(cache.link(&key(1)), Some(link.clone()));
        cache.put("v0000".to_owned(), bytes::Bytes::from(vec![b'x'; 95]));
        for number in 2..20 {
            cache.put_link(key(number), link.clone());
        }
        let usage = cache.usage();
        assert_eq!(usage.resets, 1, "the links filled the budget once");
        assert!(cache.link(&key(1)).is_none() && cache.get("v0000").is_none());
        assert_eq!(cache.link(&key(19)), Some(link.clone()));
        let none = Immutable::with_budget(0);
        none.put_link(key(1), link);
        assert_eq!((none.link(&key(1)), none.usage().bytes), (None, 0));
    }
}
