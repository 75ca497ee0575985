//! A shared or mounted folder as a remote: the files of [`super::layout`] below its root.

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};

use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::files::{
    create_exclusive, found, read_optional, read_parsed, read_parsed_open, write_atomic_shared,
    write_hint,
};
use crate::records::{AccessRequest, MembershipEvent, PublicationRecord, Seal, VersionRecord};
use crate::remote::{Publications, Remote};
use crate::remote::{head, layout};

pub struct FolderRemote {
    root: PathBuf,
    /// The record at the head the last [`Remote::head`] settled on, as its probe opened it:
    /// a `version` of that number (what follows every `head`) reads it from this open file
    /// instead of walking its path a second time. A record is never rewritten in place
    /// (created whole, never replaced), so the file opened then holds what the path does.
    probed: RefCell<Option<(PathBuf, fs::File)>>,
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
        Self {
            root,
            probed: RefCell::new(None),
        }
    }

    /// The file or directory at `segments` (see [`layout`]) below the root.
    fn path(&self, segments: &[String]) -> PathBuf {
        // One buffer sized once: `join` would copy the path again for every segment, and
        // `status` builds four of these per environment.
        let length = segments
            .iter()
            .map(|segment| segment.len() + 1)
            .sum::<usize>();
        let mut path = PathBuf::with_capacity(self.root.as_os_str().len() + length);
        path.push(&self.root);
        for segment in segments {
            path.push(segment);
        }
        path
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
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|error| {
                self.remote_error(format!("listing {}", directory.display()), error)
            })?;
            names.extend(entry.file_name().into_string().ok());
        }
        Ok(layout::record_numbers(names))
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
        required(path, what, read_optional(path))
    }
}

impl Remote for FolderRemote {
    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    fn watch_directory(&self) -> Option<PathBuf> {
        Some(self.root.clone())
    }

    fn environments(&self, project: &str) -> Result<Vec<String>> {
        let directory = self.path(&layout::environments(project));
        let entries = match fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(self.remote_error("listing environments".into(), error)),
        };
        Ok(layout::environment_names(
            entries
                .flatten()
                .filter_map(|entry| entry.file_name().into_string().ok()),
        ))
    }

    /// Probes around the `head` hint instead of listing the versions, so that the cost stays
    /// flat however long the history grows. An unreadable hint is no hint. A probe opens the
    /// record it asks about, which the `version` read that follows then uses.
    fn head(&self, place: &EnvironmentRef) -> Result<Option<u64>> {
        let hint = read_parsed(&self.path(&layout::head_hint(place)), head::whole_hint)
            .ok()
            .flatten()
            .map_or(0, |(Ok(number) | Err(number))| number);
        let mut present = None;
        let newest = head::probe_head(hint, |number| {
            let path = self.path(&layout::version(place, number));
            let exists = match fs::File::open(&path) {
                Ok(file) => {
                    present = Some((number, path, file));
                    return Ok(true);
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
                // Not readable (or not a file): whether it exists is still the question.
                Err(_) => path.try_exists(),
            };
            exists.map_err(|error| self.remote_error(format!("reading {}", path.display()), error))
        })?;
        *self.probed.borrow_mut() = present
            .filter(|(number, _, _)| *number == newest)
            .map(|(_, path, file)| (path, file));
        if newest == 0 {
            self.check_root()?;
        }
        Ok((newest > 0).then_some(newest))
    }

    fn version(&self, place: &EnvironmentRef, number: u64) -> Result<VersionRecord> {
        let path = self.path(&layout::version(place, number));
        let what = format!("version {number} of {place}");
        let probed = self.probed.take().filter(|(probed, _)| *probed == path);
        // A record is a JSON object, whole only when it parses: one read where it fits.
        let parse = |bytes: &[u8]| VersionRecord::from_json(bytes, &what);
        let parsed = match probed {
            Some((_, file)) => found(&path, read_parsed_open(file, parse)),
            None => read_parsed(&path, parse),
        };
        Ok(required(&path, &what, parsed)??)
    }

    fn ciphertext(&self, place: &EnvironmentRef, sha256: &str) -> Result<Vec<u8>> {
        let path = self.path(&layout::object(place, sha256)?);
        self.read_required(&path, &format!("ciphertext {sha256}"))
    }

    fn create_version(&self, record: &VersionRecord, ciphertext: &[u8]) -> Result<bool> {
        self.check_root()?;
        let body = &record.body;
        let place = EnvironmentRef::from(body);
        let object = self.path(&layout::object(&place, &body.ciphertext_sha256)?);
        // Content-addressed, so a racing loser's object is harmless and a retry is idempotent.
        if !object.exists() {
            write_atomic_shared(&object, ciphertext)?;
        }
        if !create_exclusive(
            &self.path(&layout::version(&place, body.number)),
            &record.to_json(),
        )? {
            return Ok(false);
        }
        // The version exists now whatever happens to the hint: a hint that failed to land
        // costs the next reader a few extra probes, not a failed push.
        let _ = write_hint(
            &self.path(&layout::head_hint(&place)),
            &head::encode_hint(body.number),
        );
        Ok(true)
    }

    fn membership(&self, project: &str) -> Result<Vec<MembershipEvent>> {
        let numbers = self.numbered_files(&self.path(&layout::members(project)))?;
        layout::membership(project, numbers, |entry, what| {
            self.read_required(&self.path(entry), what)
        })
    }

    fn membership_from(&self, project: &str, first: u64) -> Result<Vec<MembershipEvent>> {
        layout::membership_from(project, first, |segments| {
            read_optional(&self.path(segments))
                .map_err(|error| ClientError::Remote(format!("folder remote: {error}")))
        })
    }

    fn append_membership(&self, event: &MembershipEvent) -> Result<bool> {
        self.check_root()?;
        let path = self.path(&layout::member_entry(
            &event.body.project,
            event.body.number,
        ));
        create_exclusive(&path, &event.to_json())
    }

    fn publications(&self, place: &EnvironmentRef) -> Result<Publications> {
        let directory = self.path(&layout::publications(place));
        let mut files = Vec::new();
        for number in self.numbered_files(&directory)? {
            let path = self.path(&layout::publication(place, number));
            let bytes = read_optional(&path)
                .map_err(|error| ClientError::Remote(format!("folder remote: {error}")))?;
            files.extend(bytes.map(|bytes| (number, bytes)));
        }
        Ok(layout::publication_log(place, files))
    }

    fn append_publication(&self, record: &PublicationRecord) -> Result<bool> {
        self.check_root()?;
        let place = EnvironmentRef::from(&record.body);
        let path = self.path(&layout::publication(&place, record.body.number));
        create_exclusive(&path, &record.to_json())
    }

    fn access_requests(&self, project: &str) -> Result<Vec<AccessRequest>> {
        let directory = self.path(&layout::requests(project));
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
                requests.extend(layout::access_request(
                    &self.read_required(&path, &what)?,
                    &what,
                ));
            }
        }
        layout::sort_requests(&mut requests);
        Ok(requests)
    }

    fn put_access_request(&self, request: &AccessRequest) -> Result<()> {
        self.check_root()?;
        let fingerprint = request.verified_signer()?.fingerprint();
        let path = self.path(&layout::request(&request.body.project, &fingerprint));
        write_atomic_shared(&path, &request.to_json())
    }

    fn delete_access_request(&self, project: &str, fingerprint: &str) -> Result<()> {
        let path = self.path(&layout::request(project, fingerprint));
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(self.remote_error(format!("removing {}", path.display()), error)),
        }
    }
}

/// What reading a file the remote must hold gave (`what` names it): a missing one is an
/// integrity error, an unreadable one the remote's.
fn required<T>(path: &Path, what: &str, read: Result<Option<T>>) -> Result<T> {
    read.map_err(|error| ClientError::Remote(format!("folder remote: {error}")))?
        .ok_or_else(|| {
            ClientError::Integrity(format!(
                "{what} is missing from the remote ({})",
                path.display()
            ))
        })
}
