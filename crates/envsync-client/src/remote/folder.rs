//! A shared or mounted folder as a remote.
//!
//! ```text
//! ROOT/PROJECT/members/00000001.json                  membership log (create-exclusive)
//! ROOT/PROJECT/requests/FINGERPRINT.json              access requests
//! ROOT/PROJECT/environments/ENV/versions/00000001.json version records (create-exclusive)
//! ROOT/PROJECT/environments/ENV/objects/SHA256.age    ciphertexts: plain age files
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{ClientError, Result};
use crate::files::{create_exclusive, read_optional, write_atomic_shared};
use crate::records::{AccessRequest, MembershipEvent, Seal, VersionRecord};
use crate::remote::Remote;

pub struct FolderRemote {
    root: PathBuf,
}

impl FolderRemote {
    /// A folder remote at `root`, resolved to its canonical path when it exists, so that
    /// every clone on this machine names it the same way (the ledger is kept per remote).
    pub fn new(root: &Path) -> Self {
        let root = fs::canonicalize(root).unwrap_or_else(|_| {
            // Not created yet (before the first push): resolve the parent it will live in.
            match (root.parent(), root.file_name()) {
                (Some(parent), Some(name)) => fs::canonicalize(parent)
                    .map_or_else(|_| root.to_path_buf(), |parent| parent.join(name)),
                _ => root.to_path_buf(),
            }
        });
        Self { root }
    }

    fn environment_dir(&self, project: &str, environment: &str) -> PathBuf {
        self.root
            .join(project)
            .join("environments")
            .join(environment)
    }

    fn remote_error(&self, what: String, error: std::io::Error) -> ClientError {
        ClientError::Remote(format!(
            "folder remote {}: {what}: {error}",
            self.root.display()
        ))
    }

    /// Numbers of the `NNNNNNNN.json` files in a directory; a missing directory has none.
    fn numbered_files(&self, directory: &Path) -> Result<Vec<u64>> {
        let entries = match fs::read_dir(directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                self.check_root()?;
                return Ok(Vec::new());
            }
            Err(error) => {
                return Err(self.remote_error(format!("listing {}", directory.display()), error));
            }
        };
        let mut numbers = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|error| {
                self.remote_error(format!("listing {}", directory.display()), error)
            })?;
            let name = entry.file_name();
            let Some(stem) = name.to_str().and_then(|name| name.strip_suffix(".json")) else {
                continue;
            };
            if !stem.is_empty()
                && stem.bytes().all(|byte| byte.is_ascii_digit())
                && let Ok(number) = stem.parse()
            {
                numbers.push(number);
            }
        }
        numbers.sort_unstable();
        Ok(numbers)
    }

    /// A missing root is a misconfiguration or an unmounted share, never "no versions yet".
    fn check_root(&self) -> Result<()> {
        if self.root.is_dir() {
            Ok(())
        } else {
            Err(ClientError::Remote(format!(
                "folder remote {} does not exist or is not a directory (is the share mounted? create it with `mkdir -p`)",
                self.root.display()
            )))
        }
    }

    fn read_required(&self, path: &Path, what: &str) -> Result<Vec<u8>> {
        read_optional(path)
            .map_err(|error| ClientError::Remote(format!("folder remote: {error}")))?
            .ok_or_else(|| {
                ClientError::Integrity(format!(
                    "{what} is missing from the remote ({})",
                    path.display()
                ))
            })
    }
}

fn record_name(number: u64) -> String {
    format!("{number:08}.json")
}

impl Remote for FolderRemote {
    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    fn watch_directory(&self) -> Option<PathBuf> {
        Some(self.root.clone())
    }

    fn environments(&self, project: &str) -> Result<Vec<String>> {
        let directory = self.root.join(project).join("environments");
        let entries = match fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(self.remote_error("listing environments".into(), error)),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| envsync_core::config::is_valid_name(name))
            .collect();
        names.sort();
        Ok(names)
    }

    fn head(&self, project: &str, environment: &str) -> Result<Option<u64>> {
        let versions = self.environment_dir(project, environment).join("versions");
        Ok(self.numbered_files(&versions)?.last().copied())
    }

    fn version(&self, project: &str, environment: &str, number: u64) -> Result<VersionRecord> {
        let path = self
            .environment_dir(project, environment)
            .join("versions")
            .join(record_name(number));
        let what = format!("version {number} of {project}/{environment}");
        Ok(VersionRecord::from_json(
            &self.read_required(&path, &what)?,
            &what,
        )?)
    }

    fn ciphertext(&self, project: &str, environment: &str, sha256: &str) -> Result<Vec<u8>> {
        if sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(ClientError::Integrity(format!(
                "malformed ciphertext digest `{sha256}`"
            )));
        }
        let path = self
            .environment_dir(project, environment)
            .join("objects")
            .join(format!("{sha256}.age"));
        self.read_required(&path, &format!("ciphertext {sha256}"))
    }

    fn create_version(&self, record: &VersionRecord, ciphertext: &[u8]) -> Result<bool> {
        self.check_root()?;
        let body = &record.body;
        let directory = self.environment_dir(&body.project, &body.environment);
        let object = directory
            .join("objects")
            .join(format!("{}.age", body.ciphertext_sha256));
        // Content-addressed, so a racing loser's object is harmless and a retry is idempotent.
        if !object.exists() {
            write_atomic_shared(&object, ciphertext)?;
        }
        create_exclusive(
            &directory.join("versions").join(record_name(body.number)),
            &record.to_json(),
        )
    }

    fn membership(&self, project: &str) -> Result<Vec<MembershipEvent>> {
        let directory = self.root.join(project).join("members");
        let mut events = Vec::new();
        for number in self.numbered_files(&directory)? {
            let what = format!("membership entry {number} of {project}");
            let bytes = self.read_required(&directory.join(record_name(number)), &what)?;
            events.push(MembershipEvent::from_json(&bytes, &what)?);
        }
        Ok(events)
    }

    fn append_membership(&self, event: &MembershipEvent) -> Result<bool> {
        self.check_root()?;
        let path = self
            .root
            .join(&event.body.project)
            .join("members")
            .join(record_name(event.body.number));
        create_exclusive(&path, &event.to_json())
    }

    fn access_requests(&self, project: &str) -> Result<Vec<AccessRequest>> {
        let directory = self.root.join(project).join("requests");
        let entries = match fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(self.remote_error("listing requests".into(), error)),
        };
        let mut requests = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path
                .extension()
                .is_some_and(|extension| extension == "json")
            {
                let what = format!("access request {}", path.display());
                // A garbled request is someone else's problem: skip it rather than block everyone.
                if let Ok(request) =
                    AccessRequest::from_json(&self.read_required(&path, &what)?, &what)
                {
                    requests.push(request);
                }
            }
        }
        requests.sort_by(|a, b| a.body.created_at.cmp(&b.body.created_at));
        Ok(requests)
    }

    fn put_access_request(&self, request: &AccessRequest) -> Result<()> {
        self.check_root()?;
        let fingerprint = request.verified_signer()?.fingerprint();
        let path = self
            .root
            .join(&request.body.project)
            .join("requests")
            .join(format!("{fingerprint}.json"));
        write_atomic_shared(&path, &request.to_json())
    }

    fn delete_access_request(&self, project: &str, fingerprint: &str) -> Result<()> {
        let path = self
            .root
            .join(project)
            .join("requests")
            .join(format!("{fingerprint}.json"));
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(self.remote_error(format!("removing {}", path.display()), error)),
        }
    }
}
