use zeroize::Zeroizing;

use super::Session;
use crate::error::{ClientError, Result};
use crate::workspace::Target;

impl Session {
    /// The remote head's plaintext, verified and decrypted in memory only: what `run
    /// --remote` and `export --remote` use, with no file on disk.
    pub fn head_plaintext(&mut self, target: &Target) -> Result<(u64, Zeroizing<Vec<u8>>)> {
        let view = self.project_view(&target.project)?;
        let head = self.require_head(target)?;
        let record = self.fetch_record(&view, target, head, None)?;
        let ciphertext = self.fetch_ciphertext(target, &record)?;
        let content = self.decrypt(&view, target, &record, &ciphertext)?;
        Ok((head, content))
    }

    /// The remote head's number; an environment without versions is bad input here.
    pub(crate) fn require_head(&self, target: &Target) -> Result<u64> {
        self.remote
            .head(&target.project, &target.environment)?
            .ok_or_else(|| {
                ClientError::Input(format!(
                    "{}/{} has no versions on the remote yet",
                    target.project, target.environment
                ))
            })
    }

    /// The linked file's bytes; a missing file says how to get it.
    pub fn local_plaintext(&self, target: &Target) -> Result<Zeroizing<Vec<u8>>> {
        self.read_local(target)?.map(Zeroizing::new).ok_or_else(|| {
            ClientError::Input(format!(
                "{} does not exist: run `envsync pull`, or pass --remote to read the remote head",
                target.file_label
            ))
        })
    }
}
