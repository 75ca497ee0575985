use std::io::Write;

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256, the one digest envsync uses for files, blobs and records.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// [`sha256_hex`] of bytes that arrive in pieces (a serialiser's output, a file read a
/// chunk at a time), so that no buffer has to hold them all: for a record of 1,000 keys that
/// buffer was 50 KB grown by doubling, a sixth of what `status` allocated.
#[derive(Debug, Default)]
pub struct Sha256Writer(Sha256);

impl Sha256Writer {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The hex digest of everything written.
    pub fn hex(self) -> String {
        hex::encode(self.0.finalize())
    }
}

impl Write for Sha256Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_in_pieces_is_the_digest_of_the_whole() {
        let whole: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let mut writer = Sha256Writer::default();
        for piece in whole.chunks(7) {
            writer.write_all(piece).unwrap();
        }
        assert_eq!(writer.hex(), sha256_hex(&whole));
        assert_eq!(Sha256Writer::default().hex(), sha256_hex(b""));
    }
}
