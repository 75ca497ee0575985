//! This user's record of how far each history had got, kept outside the workspace.
//!
//! Per remote and project: the newest membership entry and, per environment, the newest
//! version this machine verified, with their digests and copies of the verified records.
//! It lives in the user's state directory (`$XDG_STATE_HOME/envsync/ledger/`), so deleting
//! `.envsync/` or cloning the repository again forgets nothing, and a remote that later shows
//! less (rollback, truncation) or something else at a number already seen is refused. The
//! copies let `envsync repair` put back what a restored remote lost. Beside the newest
//! membership entry it keeps the log folded up to it (`roster.json`), so that a command reads
//! and verifies only the entries after it.

use std::path::{Path, PathBuf};

use envsync_core::hash::sha256_hex;
use serde::{Deserialize, Serialize};

use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::files::{read_optional, write_atomic, write_json};
use crate::membership::Roster;
use crate::records::{MembershipEvent, Pin, VersionRecord, now_rfc3339};

/// A point this machine verified, and when it first did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub number: u64,
    pub digest: String,
    pub seen_at: String,
    /// Of a version: the earlier points of its history it was verified to chain to (a
    /// membership log's pin a few versions back, say), so that a command finding the same
    /// head and the same floor again need not read the floor's record from the remote. A
    /// version's history never changes, so this cannot go stale.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reaches: Vec<Pin>,
}

impl Seen {
    pub fn pin(&self) -> Pin {
        Pin {
            number: self.number,
            digest: self.digest.clone(),
        }
    }
}

/// The ledger's files of one version (see [`Ledger::kept_files`]).
#[derive(Debug, Clone)]
pub struct KeptFiles {
    pub record: PathBuf,
    pub ciphertext: PathBuf,
}

/// One remote's ledger.
#[derive(Debug, Clone)]
pub struct Ledger {
    root: PathBuf,
    /// A dry run reads the ledger (its floors still apply) but moves nothing forward.
    read_only: bool,
}

impl Ledger {
    /// The ledger of the remote described as `remote` (its canonical description) under
    /// `state_home` (`$XDG_STATE_HOME/envsync`).
    pub fn open(state_home: &Path, remote: &str) -> Self {
        let id = &sha256_hex(remote.as_bytes())[..24];
        Self {
            root: state_home.join("ledger").join(id),
            read_only: false,
        }
    }

    /// The same ledger, checked but never written (`--dry-run`).
    pub fn read_only(&self) -> Self {
        Self {
            root: self.root.clone(),
            read_only: true,
        }
    }

    fn project_dir(&self, project: &str) -> PathBuf {
        self.root.join(project)
    }

    fn environment_dir(&self, place: &EnvironmentRef) -> PathBuf {
        self.project_dir(&place.project)
            .join("environments")
            .join(&place.environment)
    }

    /// Where the kept copy of version `number` of `place` is.
    fn record_path(&self, place: &EnvironmentRef, number: u64) -> PathBuf {
        self.environment_dir(place)
            .join("versions")
            .join(format!("{number:08}.json"))
    }

    /// Where the kept ciphertext of `record` is.
    fn ciphertext_path(&self, record: &VersionRecord) -> PathBuf {
        self.environment_dir(&EnvironmentRef::from(&record.body))
            .join("objects")
            .join(&record.body.ciphertext_sha256)
    }

    /// Where the ledger keeps `record` and its ciphertext once it has them: files that the
    /// workspace's base may share instead of writing the same bytes again.
    pub fn kept_files(&self, record: &VersionRecord) -> KeptFiles {
        KeptFiles {
            record: self.record_path(&EnvironmentRef::from(&record.body), record.body.number),
            ciphertext: self.ciphertext_path(record),
        }
    }

    pub fn membership(&self, project: &str) -> Result<Option<Seen>> {
        read_json(&self.project_dir(project).join("membership.json"))
    }

    /// The membership log as this machine folded it, when that is the fold up to the entry
    /// [`Ledger::membership`] pins. Anything else (missing, damaged, from another pin, as two
    /// processes racing can leave it) is no snapshot: the caller reads the whole log.
    pub fn roster(&self, project: &str, seen: &Seen) -> Option<Roster> {
        let path = self.project_dir(project).join("roster.json");
        let roster: Roster = read_json(&path).ok().flatten()?;
        (roster.tip() == Some(seen.pin())).then_some(roster)
    }

    /// Keeps `roster`, the log verified and folded up to the entry the ledger now pins.
    pub fn save_roster(&self, project: &str, roster: &Roster) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        write_json(&self.project_dir(project).join("roster.json"), roster)
    }

    pub fn environment(&self, place: &EnvironmentRef) -> Result<Option<Seen>> {
        read_json(&self.environment_dir(place).join("head.json"))
    }

    /// Records the membership log as verified up to its last entry, keeping a copy of every
    /// entry. Never moves back. `known` is what [`Ledger::membership`] returned before the
    /// log was read: when it already covers `events` nothing is read again (every command's
    /// case); otherwise the ledger is read once more before writing, as another process may
    /// have moved it meanwhile.
    pub fn advance_membership(
        &self,
        project: &str,
        known: Option<&Seen>,
        events: &[MembershipEvent],
    ) -> Result<()> {
        let Some(last) = events.last().filter(|_| !self.read_only) else {
            return Ok(());
        };
        let covers = |seen: &Seen| seen.number >= last.body.number;
        if known.is_some_and(covers) {
            return Ok(());
        }
        let known = self.membership(project)?;
        if known.as_ref().is_some_and(covers) {
            return Ok(());
        }
        let first_new = known.map_or(0, |seen| seen.number);
        let path = self.project_dir(project).join("membership.json");
        for event in events.iter().filter(|event| event.body.number > first_new) {
            let name = format!("{:08}.json", event.body.number);
            write_atomic(
                &self.project_dir(project).join("members").join(name),
                &event.to_json(),
            )?;
        }
        write_json(&path, &seen(last.body.number, last.digest()))
    }

    /// Records `record`, whose digest the caller has at hand as `digest`, as verified, and as
    /// the newest known when it is, with `reaches`, the earlier points it was verified to
    /// chain to.
    pub fn advance_environment(
        &self,
        record: &VersionRecord,
        digest: &str,
        reaches: &[Pin],
    ) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        let body = &record.body;
        let place = EnvironmentRef::from(body);
        let head_path = self.environment_dir(&place).join("head.json");
        let known = self.environment(&place)?;
        if let Some(mut seen) = known
            .clone()
            .filter(|seen| seen.number == body.number && seen.digest == digest)
        {
            // Seen already (every `status` verifies the same head again): only points it was
            // newly found to reach are written.
            let new = reaches.iter().filter(|pin| !seen.reaches.contains(pin));
            let new: Vec<Pin> = new.cloned().collect();
            if new.is_empty() {
                return Ok(());
            }
            seen.reaches.extend(new);
            return write_json(&head_path, &seen);
        }
        write_atomic(&self.record_path(&place, body.number), &record.to_json())?;
        if known.is_none_or(|seen| seen.number < body.number) {
            let mut seen = seen(body.number, digest.to_owned());
            seen.reaches = reaches.to_vec();
            write_json(&head_path, &seen)?;
        }
        Ok(())
    }

    /// Keeps a verified version's ciphertext, so `repair` can put the version back.
    pub fn keep_ciphertext(&self, record: &VersionRecord, ciphertext: &[u8]) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        let path = self.ciphertext_path(record);
        if path.exists() {
            return Ok(());
        }
        write_atomic(&path, ciphertext)
    }

    /// The environments of `project` this machine verified something of.
    pub fn environments(&self, project: &str) -> Result<Vec<String>> {
        let directory = self.project_dir(project).join("environments");
        let entries = match std::fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(ClientError::io(directory.display().to_string(), error)),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// The kept copy of membership entry `number`.
    pub fn kept_event(&self, project: &str, number: u64) -> Result<Option<MembershipEvent>> {
        let path = self
            .project_dir(project)
            .join("members")
            .join(format!("{number:08}.json"));
        read_record(&path)
    }

    /// The kept copy of version `number`.
    pub fn kept_version(
        &self,
        place: &EnvironmentRef,
        number: u64,
    ) -> Result<Option<VersionRecord>> {
        read_record(&self.record_path(place, number))
    }

    pub fn kept_ciphertext(&self, record: &VersionRecord) -> Result<Option<Vec<u8>>> {
        read_optional(&self.ciphertext_path(record))
    }
}

fn seen(number: u64, digest: String) -> Seen {
    Seen {
        number,
        digest,
        seen_at: now_rfc3339(),
        reaches: Vec::new(),
    }
}

fn read_record<T: envsync_core::records::Signable>(
    path: &Path,
) -> Result<Option<envsync_core::records::Signed<T>>> {
    match read_optional(path)? {
        None => Ok(None),
        Some(bytes) => Ok(Some(envsync_core::records::Signed::from_json(
            &bytes,
            &path.display().to_string(),
        )?)),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    crate::files::read_json(path, |path, error| {
        ClientError::Integrity(format!(
            "the ledger file {} is corrupt ({error}): this machine's record of what it verified is damaged",
            path.display()
        ))
    })
}
