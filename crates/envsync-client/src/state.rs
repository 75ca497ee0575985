//! Local state in `.envsync/` at the workspace root (git-ignored): per environment, the
//! base version as pulled (still encrypted), the hash of the file as envsync last wrote
//! it and, per publish target that cannot return values, keyed digests of what was last
//! published there; per project, the member keys this user trusts.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::files::{NewFile, read_optional, write_atomic, write_atomic_each, write_json};
use crate::ledger::KeptFiles;
use crate::records::{VersionRecord, now_rfc3339};
use crate::stores::publish::PublishRecord;
use crate::workspace::Target;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentState {
    pub base_version: u64,
    pub base_digest: String,
    /// SHA-256 of the linked file as envsync last wrote or pushed it.
    pub file_sha256: String,
}

impl EnvironmentState {
    /// Whether this state already records `record` (whose digest is `digest`) as the base
    /// of a file whose SHA-256 is `file_sha256`: then saving that base again would rewrite
    /// three files (and sync them) to the same bytes.
    pub fn is_base(&self, record: &VersionRecord, digest: &str, file_sha256: &str) -> bool {
        self.base_version == record.body.number
            && self.file_sha256 == file_sha256
            && self.base_digest == digest
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Trust {
    pub keys: Vec<TrustedKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrustedKey {
    pub key: String,
    pub name: String,
    pub accepted_at: String,
    /// `self`, `first use` or `accepted`.
    pub how: String,
}

impl Trust {
    pub fn contains(&self, key: &str) -> bool {
        self.keys.iter().any(|trusted| trusted.key == key)
    }

    pub fn add(&mut self, key: &str, name: &str, how: &str) {
        if !self.contains(key) {
            self.keys.push(TrustedKey {
                key: key.to_owned(),
                name: name.to_owned(),
                accepted_at: now_rfc3339(),
                how: how.to_owned(),
            });
        }
    }
}

#[derive(Clone)]
pub struct LocalState {
    root: PathBuf,
    /// A dry run's state: it reads as usual and writes nothing (saves succeed and vanish).
    read_only: bool,
}

impl LocalState {
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            read_only: false,
        }
    }

    /// State that is read but never written: `--dry-run` may verify (which pins keys on
    /// first use, in memory) without leaving a trace in `.envsync/`.
    pub fn read_only(root: PathBuf) -> Self {
        Self {
            root,
            read_only: true,
        }
    }

    /// Keyed by the target's [state name](Target::state_name): a file's base, so the
    /// default file under `envsync use` has its own.
    fn environment_dir(&self, target: &Target) -> PathBuf {
        self.root.join(&target.project).join(target.state_name())
    }

    pub fn read(&self, target: &Target) -> Result<Option<EnvironmentState>> {
        read_json(&self.environment_dir(target).join("state.json"))
    }

    pub fn base_record(&self, target: &Target) -> Result<Option<VersionRecord>> {
        read_json(&self.environment_dir(target).join("base.json"))
    }

    pub fn base_ciphertext(&self, target: &Target) -> Result<Option<Vec<u8>>> {
        read_optional(&self.environment_dir(target).join("base.age"))
    }

    /// Forgets the target's base (its `state.json`), so until a new one is saved the file
    /// counts as never synced: what `envsync use` does before pointing the default file at
    /// another environment, so that a crash midway can never make one environment's content
    /// look like another's unpushed edits.
    pub fn forget(&self, target: &Target) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        let path = self.environment_dir(target).join("state.json");
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(ClientError::io(
                format!("removing {}", path.display()),
                error,
            )),
            _ => Ok(()),
        }
    }

    /// Records a new base. `state.json` is written last, once both base files are on disk,
    /// so a crash midway never leaves the new state pointing at an old or missing base file.
    /// The two base files share one sync of their directory, and are hard links to the
    /// ledger's copies (`kept`) where those hold the same bytes.
    pub fn save_base(
        &self,
        target: &Target,
        record: &VersionRecord,
        ciphertext: &[u8],
        file_sha256: &str,
        kept: &KeptFiles,
    ) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        let directory = self.environment_dir(target);
        let record_json = record.to_json();
        write_atomic_each(&[
            NewFile {
                path: &directory.join("base.age"),
                bytes: ciphertext,
                same_as: Some(&kept.ciphertext),
            },
            NewFile {
                path: &directory.join("base.json"),
                bytes: &record_json,
                same_as: Some(&kept.record),
            },
        ])?;
        let state = EnvironmentState {
            base_version: record.body.number,
            base_digest: record.digest(),
            file_sha256: file_sha256.to_owned(),
        };
        write_json(&directory.join("state.json"), &state)
    }

    fn publish_record_path(&self, place: &EnvironmentRef, to: &str) -> PathBuf {
        let name = &crate::stores::publish::record_name(to);
        // Per environment, whichever file holds it on this machine (`envsync use`).
        self.root
            .join(&place.project)
            .join(&place.environment)
            .join("published")
            .join(name)
    }

    /// What this machine last published to `to` (empty when nothing yet).
    pub fn publish_record(&self, place: &EnvironmentRef, to: &str) -> Result<PublishRecord> {
        Ok(read_json(&self.publish_record_path(place, to))?.unwrap_or_default())
    }

    pub fn save_publish_record(
        &self,
        place: &EnvironmentRef,
        to: &str,
        record: &PublishRecord,
    ) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        write_json(&self.publish_record_path(place, to), record)
    }

    pub fn trust(&self, project: &str) -> Result<Trust> {
        Ok(read_json(&self.root.join(project).join("trust.json"))?.unwrap_or_default())
    }

    pub fn save_trust(&self, project: &str, trust: &Trust) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        write_json(&self.root.join(project).join("trust.json"), trust)
    }

    /// Keeps overwritten local content encrypted to the user's own key, so a backup never
    /// leaves plaintext outside the linked file.
    pub fn write_backup(&self, target: &Target, ciphertext: &[u8]) -> Result<PathBuf> {
        let stamp = now_rfc3339().replace(':', "");
        let path = self
            .environment_dir(target)
            .join("backups")
            .join(format!("{stamp}.age"));
        if self.read_only {
            return Ok(path);
        }
        write_atomic(&path, ciphertext)?;
        Ok(path)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    crate::files::read_json(path, |path, error| {
        ClientError::Integrity(format!(
            "local state {} is corrupt ({error}); delete it and run `envsync pull`",
            path.display()
        ))
    })
}
