use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256, the one digest envsync uses for files, blobs and records.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
