//! Maps keyed by variable names, with a fast hash.
//!
//! A merge of two 10,000-key files does some 100,000 lookups by key; with the standard
//! SipHash they were a third of its time. Keys are short ASCII names from files this user
//! decrypted and whose signatures were checked, so hash flooding is not a concern worth that
//! cost here. The hash is the multiply-rotate scheme of rustc's `FxHasher`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use indexmap::IndexMap;

/// The build-hasher for key-indexed maps.
pub(crate) type KeyState = BuildHasherDefault<KeyHasher>;

/// Effective values by key, in order of first appearance.
pub(crate) type KeyMap<'a, V> = IndexMap<&'a str, V, KeyState>;

pub(crate) type KeyHashMap<'a, V> = HashMap<&'a str, V, KeyState>;

#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher {
    hash: u64,
}

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut word = [0; 8];
        word[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.add(u64::from_le_bytes(word) ^ bytes.len() as u64);
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}
