//! A git repository as a remote: the files of [`super::layout`] on a branch of their own
//! (`envsync` unless `#branch` names another), through the `git` CLI, so that each user's
//! SSH agent, credential helpers and host configuration apply as they do for their code.
//!
//! Reads come from the branch as last fetched into a bare cache ([`cache`]); a command
//! fetches once, when it first reads. A write is a commit on the fetched tip, pushed
//! without force: the remote's ref update is the compare-and-swap. When the push is
//! rejected the branch is fetched again, and the write is either reported as a lost race
//! (its version or entry number is taken, or the membership log moved under a version
//! encrypted for the old roster) or replayed on the new tip (someone else only touched
//! other records) and pushed again. No other branch is ever read or written.

mod cache;
mod filed;
mod location;
mod objects;

use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};

use self::cache::{Cache, Change, Pushed};
pub use self::location::GitLocation;
use self::location::redacted;
use self::objects::{Entry, Objects};
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::records::{AccessRequest, MembershipEvent, PublicationRecord, Seal, VersionRecord};
use crate::remote::head;
use crate::remote::layout::{self, Segments};
use crate::remote::{Publications, Remote};

/// A fetch older than this is repeated before the next read, so that `envsync watch`, which
/// keeps one remote open for hours, polls something fresh; one command is done well within.
const FRESH_FOR: Duration = Duration::from_secs(2);

/// Pushes rejected in a row before giving up: each one means another push landed first.
const ATTEMPTS: usize = 30;

pub struct GitRemote {
    url: String,
    branch: String,
    display: String,
    cache: Cache,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// The fetched commit of the branch; `None` before its first push.
    tip: Option<String>,
    fetched_at: Option<Instant>,
    objects: Option<Objects>,
    /// While a write decides whether it may land, the tip is not fetched again however old
    /// it grows: every check must see the very tip the commit is built on.
    held: bool,
}

/// Holds the fetched tip in place until dropped.
struct Hold<'a>(&'a RefCell<State>);

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        self.0.borrow_mut().held = false;
    }
}

impl GitRemote {
    /// Opens the remote `location` names (a `git:NAME` remote is looked up in the
    /// workspace's repository). Talks to no server: the first read fetches.
    pub fn open(location: &GitLocation, workspace_root: &Path) -> Result<Self> {
        let url = location.url(workspace_root)?;
        let display = redacted(&url);
        let cache = Cache::open(&display, &location.branch)?;
        Ok(Self {
            url,
            branch: location.branch.clone(),
            display,
            cache,
            state: RefCell::default(),
        })
    }

    /// The tip to read from, fetched first when this process has not fetched lately.
    fn tip(&self) -> Result<Option<String>> {
        let stale = {
            let state = self.state.borrow();
            !state.held && state.fetched_at.is_none_or(|at| at.elapsed() > FRESH_FOR)
        };
        if stale {
            self.fetch()?;
        }
        Ok(self.state.borrow().tip.clone())
    }

    /// Fetches the branch and reads its tip through the `git cat-file` this remote keeps,
    /// so a command's one fetch costs no further process. A fetch after the first starts
    /// a new cat-file: a running one may answer for the ref as it was when it read it.
    fn fetch(&self) -> Result<()> {
        let exists = self.cache.fetch(&self.url, &self.branch)?;
        let mut state = self.state.borrow_mut();
        if state.fetched_at.is_some() {
            state.objects = None;
        }
        state.tip = if exists {
            self.objects(&mut state)?.resolve(cache::TIP_REF)?
        } else {
            None
        };
        state.fetched_at = Some(Instant::now());
        Ok(())
    }

    fn objects<'a>(&self, state: &'a mut State) -> Result<&'a mut Objects> {
        if state.objects.is_none() {
            state.objects = Some(Objects::start(&self.cache)?);
        }
        Ok(state.objects.as_mut().expect("started above"))
    }

    /// What `segments` hold at the tip.
    fn entry(&self, segments: &[String]) -> Result<Option<Entry>> {
        let Some(tip) = self.tip()? else {
            return Ok(None);
        };
        let mut state = self.state.borrow_mut();
        self.objects(&mut state)?.get(&tip, &segments.join("/"))
    }

    fn read(&self, segments: &[String]) -> Result<Option<Vec<u8>>> {
        Ok(match self.entry(segments)? {
            Some(Entry::File(bytes)) => Some(bytes),
            _ => None,
        })
    }

    /// The first of `places` that holds a file: a filed record (a version or a ciphertext)
    /// is read where new ones are written, else where a branch written before filing
    /// keeps it.
    fn read_first(&self, places: &[&Segments]) -> Result<Option<Vec<u8>>> {
        for segments in places {
            if let Some(bytes) = self.read(segments)? {
                return Ok(Some(bytes));
            }
        }
        Ok(None)
    }

    fn read_required(&self, places: &[&Segments], what: &str) -> Result<Vec<u8>> {
        self.read_first(places)?.ok_or_else(|| {
            ClientError::Integrity(format!(
                "{what} is missing from the remote ({} in {})",
                places[0].join("/"),
                self.describe()
            ))
        })
    }

    /// The names in a directory; a missing one has none.
    fn list(&self, segments: &[String]) -> Result<Vec<String>> {
        Ok(match self.entry(segments)? {
            Some(Entry::Directory(names)) => names,
            _ => Vec::new(),
        })
    }

    fn exists(&self, segments: &[String]) -> Result<bool> {
        Ok(self.entry(segments)?.is_some())
    }

    /// Whether any of `places` holds something: a version number that a branch written
    /// before filing holds flat is taken all the same.
    fn exists_at_any(&self, places: &[&Segments]) -> Result<bool> {
        for segments in places {
            if self.exists(segments)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Commits `changes` on the tip and pushes, fetching and trying again while pushes are
    /// rejected and `may_land` (asked of each new tip) holds; `false` once it does not.
    fn publish(
        &self,
        message: &str,
        changes: &[Change],
        may_land: impl Fn(&Self) -> Result<bool>,
    ) -> Result<bool> {
        for _ in 0..ATTEMPTS {
            self.tip()?;
            // A fetch between two of `may_land`'s checks (a slow machine, a check over two
            // seconds) would let one check pass on a tip the commit is not built on: a taken
            // version number would then be overwritten by a push that fast-forwards.
            let hold = self.hold();
            if !may_land(self)? {
                return Ok(false);
            }
            // The tip `may_land` was asked of, and the parent the push is checked against.
            let tip = self.state.borrow().tip.clone();
            let commit = self.cache.commit(tip.as_deref(), message, changes)?;
            drop(hold);
            match self.cache.push(&self.url, &commit, &self.branch)? {
                Pushed::Yes => {
                    let mut state = self.state.borrow_mut();
                    state.tip = Some(commit);
                    state.fetched_at = Some(Instant::now());
                    return Ok(true);
                }
                Pushed::Rejected => self.fetch()?,
            }
        }
        Err(ClientError::Remote(format!(
            "git remote {}: branch {} moved under {ATTEMPTS} pushes in a row; try again",
            self.display, self.branch
        )))
    }

    fn hold(&self) -> Hold<'_> {
        self.state.borrow_mut().held = true;
        Hold(&self.state)
    }

    /// Whether the tip holds, at the version `body` builds on, the very record it names: a
    /// version is replayed on a new tip only onto its own history, never onto another
    /// record of its base's number (which would fork the history for every reader).
    fn holds_base(
        &self,
        place: &EnvironmentRef,
        body: &crate::records::VersionBody,
    ) -> Result<bool> {
        let (Some(base), Some(parent)) = (body.base, body.parent_digest.as_deref()) else {
            return Ok(true);
        };
        let Some(bytes) = self.read_first(&filed::version(place, base).places())? else {
            return Ok(false);
        };
        let what = format!("version {base} of {place}");
        Ok(VersionRecord::from_json(&bytes, &what).is_ok_and(|record| record.digest() == parent))
    }

    /// Whether the membership log still ends at `number`: a version encrypted for that
    /// roster must never be replayed on top of a newer one.
    fn membership_ends_at(&self, project: &str, number: u64) -> Result<bool> {
        Ok(!self.exists(&layout::member_entry(project, number + 1))?)
    }
}

fn change(segments: &Segments, bytes: Option<Vec<u8>>) -> Change {
    Change {
        path: segments.join("/"),
        bytes,
    }
}

impl Remote for GitRemote {
    fn describe(&self) -> String {
        format!("git {}#{}", self.display, self.branch)
    }

    fn environments(&self, project: &str) -> Result<Vec<String>> {
        Ok(layout::environment_names(
            self.list(&layout::environments(project))?,
        ))
    }

    /// Probed around the `head` hint the pushes commit beside each version, as on a folder or
    /// bucket ([`head`]): the versions' tree, which grows with the history, is never read.
    fn head(&self, place: &EnvironmentRef) -> Result<Option<u64>> {
        let hint = self
            .read(&layout::head_hint(place))?
            .map_or(0, |bytes| head::decode_hint(&bytes));
        let newest = head::probe_head(hint, |number| {
            self.exists_at_any(&filed::version(place, number).places())
        })?;
        Ok((newest > 0).then_some(newest))
    }

    fn version(&self, place: &EnvironmentRef, number: u64) -> Result<VersionRecord> {
        let what = format!("version {number} of {place}");
        let bytes = self.read_required(&filed::version(place, number).places(), &what)?;
        Ok(VersionRecord::from_json(&bytes, &what)?)
    }

    fn ciphertext(&self, place: &EnvironmentRef, sha256: &str) -> Result<Vec<u8>> {
        let filed = filed::object(place, sha256)?;
        self.read_required(&filed.places(), &format!("ciphertext {sha256}"))
    }

    fn create_version(&self, record: &VersionRecord, ciphertext: &[u8]) -> Result<bool> {
        let body = &record.body;
        let place = EnvironmentRef::from(body);
        let version = filed::version(&place, body.number);
        let changes = [
            change(
                &filed::object(&place, &body.ciphertext_sha256)?.path,
                Some(ciphertext.to_vec()),
            ),
            change(&version.path, Some(record.to_json())),
            // Only a hint: a replay onto a new tip rewrites it with this version's number,
            // which is then the newest (its number was free and its base held).
            change(
                &layout::head_hint(&place),
                Some(head::encode_hint(body.number)),
            ),
        ];
        let message = format!("{place}: version {}", body.number);
        self.publish(&message, &changes, |remote| {
            Ok(!remote.exists_at_any(&version.places())?
                && remote.holds_base(&place, body)?
                && remote.membership_ends_at(&body.project, body.membership.number)?)
        })
    }

    fn membership(&self, project: &str) -> Result<Vec<MembershipEvent>> {
        let numbers = layout::record_numbers(self.list(&layout::members(project))?);
        layout::membership(project, numbers, |entry, what| {
            self.read_required(&[entry], what)
        })
    }

    /// Entry by entry from the fetched tip, without reading the log's tree.
    fn membership_from(&self, project: &str, first: u64) -> Result<Vec<MembershipEvent>> {
        layout::membership_from(project, first, |segments| self.read(segments))
    }

    fn append_membership(&self, event: &MembershipEvent) -> Result<bool> {
        let (project, number) = (&event.body.project, event.body.number);
        let entry = layout::member_entry(project, number);
        let changes = [change(&entry, Some(event.to_json()))];
        let message = format!("{project}: membership entry {number}");
        self.publish(&message, &changes, |remote| Ok(!remote.exists(&entry)?))
    }

    fn publications(&self, place: &EnvironmentRef) -> Result<Publications> {
        let numbers = layout::record_numbers(self.list(&layout::publications(place))?);
        let mut files = Vec::with_capacity(numbers.len());
        for number in numbers {
            let bytes = self.read(&layout::publication(place, number))?;
            files.extend(bytes.map(|bytes| (number, bytes)));
        }
        Ok(layout::publication_log(place, files))
    }

    fn append_publication(&self, record: &PublicationRecord) -> Result<bool> {
        let place = EnvironmentRef::from(&record.body);
        let number = record.body.number;
        let entry = layout::publication(&place, number);
        let changes = [change(&entry, Some(record.to_json()))];
        let message = format!("{place}: publication {number} to {}", record.body.target);
        self.publish(&message, &changes, |remote| Ok(!remote.exists(&entry)?))
    }

    fn access_requests(&self, project: &str) -> Result<Vec<AccessRequest>> {
        let directory = layout::requests(project);
        let mut requests = Vec::new();
        for name in self.list(&directory)? {
            let mut segments = directory.clone();
            segments.push(name);
            if let Some(request) = self
                .read(&segments)?
                .and_then(|bytes| layout::access_request(&bytes, &segments.join("/")))
            {
                requests.push(request);
            }
        }
        layout::sort_requests(&mut requests);
        Ok(requests)
    }

    fn put_access_request(&self, request: &AccessRequest) -> Result<()> {
        let fingerprint = request.verified_signer()?.fingerprint();
        let project = &request.body.project;
        let changes = [change(
            &layout::request(project, &fingerprint),
            Some(request.to_json()),
        )];
        let message = format!("{project}: access request from {fingerprint}");
        self.publish(&message, &changes, |_| Ok(true)).map(drop)
    }

    fn delete_access_request(&self, project: &str, fingerprint: &str) -> Result<()> {
        let segments = layout::request(project, fingerprint);
        if !self.exists(&segments)? {
            return Ok(());
        }
        let changes = [change(&segments, None)];
        let message = format!("{project}: access request from {fingerprint} answered");
        self.publish(&message, &changes, |_| Ok(true)).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn git(directory: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .current_dir(directory)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Commits one more file in `work` and pushes it to the remote's branch.
    fn push_commit(work: &Path, name: &str) -> String {
        std::fs::write(work.join(name), name).unwrap();
        git(work, &["add", name]);
        git(work, &["commit", "-q", "-m", name]);
        git(work, &["push", "-q", "origin", "HEAD:refs/heads/envsync"]);
        git(work, &["rev-parse", "HEAD"])
    }

    #[test]
    fn a_held_tip_is_not_fetched_again_however_old_it_grows() {
        let root = std::env::temp_dir().join(format!("envsync-git-hold-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (bare, work) = (root.join("remote.git"), root.join("work"));
        std::fs::create_dir_all(&work).unwrap();
        git(&root, &["init", "-q", "--bare", "remote.git"]);
        git(&work, &["init", "-q"]);
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        let first = push_commit(&work, "one");
        let remote = GitRemote {
            url: bare.to_str().unwrap().to_owned(),
            branch: "envsync".to_owned(),
            display: "test".to_owned(),
            cache: Cache::at(root.join("cache"), "test").unwrap(),
            state: RefCell::default(),
        };
        assert_eq!(remote.tip().unwrap().as_deref(), Some(first.as_str()));
        let second = push_commit(&work, "two");
        let long_ago = Instant::now().checked_sub(FRESH_FOR * 10).unwrap();
        remote.state.borrow_mut().fetched_at = Some(long_ago);
        let hold = remote.hold();
        assert_eq!(remote.tip().unwrap().as_deref(), Some(first.as_str()));
        drop(hold);
        assert_eq!(remote.tip().unwrap().as_deref(), Some(second.as_str()));
        let _ = std::fs::remove_dir_all(&root);
    }
}
