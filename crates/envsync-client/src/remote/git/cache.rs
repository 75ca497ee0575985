//! The bare repository envsync keeps per git remote under `$XDG_CACHE_HOME/envsync/git/`:
//! what was last fetched of the remote's branch, and the commits envsync builds on it. It
//! is only a cache (deleting it costs one full fetch), and it lives outside every work
//! tree, so the branch never shows up in anyone's checkout.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use envsync_core::hash::sha256_hex;

use crate::env_vars::{self, EnvVars};
use crate::error::{ClientError, Result};

/// Where a fetched branch is kept in the cache.
pub(super) const TIP_REF: &str = "refs/envsync/tip";
/// Where `git fast-import` leaves the commit envsync is about to push.
const PENDING_REF: &str = "refs/envsync/pending";

pub(super) struct Cache {
    dir: PathBuf,
    /// The repository, as messages name it (never with a password).
    display: String,
}

/// One file of a commit envsync builds: its path in the branch and its new bytes, or
/// `None` to delete it.
pub(super) struct Change {
    pub path: String,
    pub bytes: Option<Vec<u8>>,
}

/// How a push ended.
pub(super) enum Pushed {
    /// The branch now points at the commit.
    Yes,
    /// The branch moved since the fetch (someone else pushed first): nothing changed.
    Rejected,
}

impl Cache {
    /// The cache for `url` (named by a digest of the redacted URL and the branch), created
    /// on first use.
    pub(super) fn open(display: &str, branch: &str) -> Result<Self> {
        let key = sha256_hex(format!("{display}#{branch}").as_bytes());
        let dir = cache_home().join("envsync").join("git").join(&key[..24]);
        let cache = Self {
            dir,
            display: display.to_owned(),
        };
        if !cache.dir.join("HEAD").exists() {
            cache.init()?;
        }
        Ok(cache)
    }

    /// A cache in `dir`, for tests that must not touch the user's cache directory.
    #[cfg(test)]
    pub(super) fn at(dir: PathBuf, display: &str) -> Result<Self> {
        let cache = Self {
            dir,
            display: display.to_owned(),
        };
        cache.init()?;
        Ok(cache)
    }

    /// Creates the bare repository. Two processes may race to do so: either one's
    /// repository will do.
    fn init(&self) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|error| ClientError::io(format!("creating {}", self.dir.display()), error))?;
        let output = Command::new("git")
            .args(["init", "--bare", "--quiet"])
            .arg(&self.dir)
            .env_remove("GIT_DIR")
            .output()
            .map_err(|error| ClientError::io("running git (is it installed?)", error))?;
        if output.status.success() || self.dir.join("HEAD").exists() {
            Ok(())
        } else {
            Err(self.failure("creating the cache", &output.stderr))
        }
    }

    /// git with this cache as its repository, never prompting on a terminal (a command
    /// must fail with a message, not hang) and ignoring any repository the caller is in.
    pub(super) fn git(&self) -> Command {
        let mut command = Command::new("git");
        // No automatic gc: objects that only a pending commit refers to must never be pruned
        // under it.
        command
            .arg("--git-dir")
            .arg(&self.dir)
            .args(["-c", "gc.auto=0", "-c", "maintenance.auto=false"])
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_OBJECT_DIRECTORY")
            .stdin(Stdio::null());
        command
    }

    /// A one-line error naming the repository and git's own last words.
    pub(super) fn failure(&self, what: &str, stderr: &[u8]) -> ClientError {
        let stderr = String::from_utf8_lossy(stderr);
        let said = stderr
            .lines()
            .map(str::trim)
            .rfind(|line| !line.is_empty())
            .unwrap_or("no message");
        ClientError::Remote(format!("git remote {}: {what}: {said}", self.display))
    }

    /// Holds the cache's lock until dropped: fetches and commits of two envsync processes
    /// on this machine take turns instead of failing on git's ref locks.
    fn lock(&self) -> Result<File> {
        let path = self.dir.join("envsync.lock");
        let file = File::create(&path)
            .map_err(|error| ClientError::io(format!("opening {}", path.display()), error))?;
        file.lock()
            .map_err(|error| ClientError::io(format!("locking {}", path.display()), error))?;
        Ok(file)
    }

    /// Fetches `branch` of `url` into [`TIP_REF`]; `false` when the branch does not exist
    /// yet (before the first push). The caller reads the ref.
    pub(super) fn fetch(&self, url: &str, branch: &str) -> Result<bool> {
        let _lock = self.lock()?;
        let refspec = format!("+refs/heads/{branch}:{TIP_REF}");
        let output = self
            .git()
            .args(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head"])
            .args([
                "--no-auto-maintenance",
                "--no-show-forced-updates",
                "--",
                url,
            ])
            .arg(&refspec)
            .output()
            .map_err(|error| ClientError::io("running git fetch", error))?;
        if output.status.success() {
            return Ok(true);
        }
        if String::from_utf8_lossy(&output.stderr).contains("couldn't find remote ref") {
            return Ok(false);
        }
        Err(self.failure(&format!("fetching branch {branch}"), &output.stderr))
    }

    /// Builds a commit of `changes` on `parent` (a root commit when `None`) in one
    /// `git fast-import`, returning its id. Nothing leaves the machine.
    pub(super) fn commit(
        &self,
        parent: Option<&str>,
        message: &str,
        changes: &[Change],
    ) -> Result<String> {
        let _lock = self.lock()?;
        let mut child = self
            .git()
            .args(["fast-import", "--quiet", "--force", "--done"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| ClientError::io("running git fast-import", error))?;
        let script = fast_import_script(parent, message, changes);
        let mut stdin = child.stdin.take().expect("piped stdin");
        let written = stdin.write_all(&script);
        drop(stdin);
        let mut id = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            let _ = stdout.read_to_string(&mut id);
        }
        let output = child
            .wait_with_output()
            .map_err(|error| ClientError::io("running git fast-import", error))?;
        if written.is_err() || !output.status.success() {
            return Err(self.failure("building a commit", &output.stderr));
        }
        Ok(id.trim().to_owned())
    }

    /// Pushes `commit` to `branch` of `url` without force: the remote takes it only if
    /// the branch still points where the commit's parent was fetched from.
    pub(super) fn push(&self, url: &str, commit: &str, branch: &str) -> Result<Pushed> {
        let refspec = format!("{commit}:refs/heads/{branch}");
        let output = self
            .git()
            .args(["push", "--porcelain", "--no-verify", "--", url])
            .arg(&refspec)
            .output()
            .map_err(|error| ClientError::io("running git push", error))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let refused = stdout
            .lines()
            .find(|line| line.starts_with('!'))
            .unwrap_or_default();
        // A refused ref is believed over the exit status: whatever git's status, a write
        // taken for landed when it did not would be built on by the next one.
        if output.status.success() && refused.is_empty() {
            return Ok(Pushed::Yes);
        }
        if lost_race(refused) {
            return Ok(Pushed::Rejected);
        }
        let reason = refused
            .rsplit('\t')
            .next()
            .filter(|reason| !reason.is_empty());
        match reason {
            Some(reason) => Err(ClientError::Remote(format!(
                "git remote {}: pushing to branch {branch}: {reason}",
                self.display
            ))),
            None => Err(self.failure(&format!("pushing to branch {branch}"), &output.stderr)),
        }
    }
}

/// Whether a refused ref update (a `git push --porcelain` line) means only that the branch
/// moved first: an ordinary non-fast-forward, or the server losing a ref lock to a
/// concurrent push. A hook or a protected branch refusing is an error, not a race.
fn lost_race(line: &str) -> bool {
    line.contains("[rejected]")
        || (line.contains("[remote rejected]")
            && ["lock", "failed to update ref", "incorrect old value"]
                .iter()
                .any(|reason| line.contains(reason)))
}

/// The `git fast-import` input for one commit, ending with the request for its id.
fn fast_import_script(parent: Option<&str>, message: &str, changes: &[Change]) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let mut script = format!(
        "commit {PENDING_REF}\nmark :1\ncommitter envsync <envsync@invalid> {now} +0000\n\
         data {}\n{message}\n",
        message.len()
    )
    .into_bytes();
    if let Some(parent) = parent {
        script.extend_from_slice(format!("from {parent}\n").as_bytes());
    }
    for change in changes {
        match &change.bytes {
            Some(bytes) => {
                let header = format!("M 100644 inline {}\ndata {}\n", change.path, bytes.len());
                script.extend_from_slice(header.as_bytes());
                script.extend_from_slice(bytes);
                script.push(b'\n');
            }
            None => script.extend_from_slice(format!("D {}\n", change.path).as_bytes()),
        }
    }
    script.extend_from_slice(b"\nget-mark :1\ndone\n");
    script
}

/// `$XDG_CACHE_HOME`, else `~/.cache`.
fn cache_home() -> PathBuf {
    if let Some(directory) = env_vars::var_os(EnvVars::XDG_CACHE_HOME) {
        return PathBuf::from(directory);
    }
    let home = env_vars::var_os(EnvVars::HOME).unwrap_or_else(|| ".".into());
    Path::new(&home).join(".cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_moved_branch_counts_as_a_lost_race() {
        assert!(lost_race(
            "!\tabc:refs/heads/envsync\t[rejected] (fetch first)"
        ));
        assert!(lost_race(
            "!\tabc:refs/heads/envsync\t[remote rejected] (failed to update ref)"
        ));
        assert!(!lost_race(
            "!\tabc:refs/heads/envsync\t[remote rejected] (pre-receive hook declined)"
        ));
        assert!(!lost_race(""));
    }
}
