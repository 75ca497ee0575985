use std::path::Path;

use envsync_crypto::Identity;

use crate::credentials::CredentialsConfig;
use crate::error::{ClientError, Result};
use crate::identity_store::IdentityConfig;
use crate::ledger::{Ledger, Seen};
use crate::membership::{Member, Roster, fold_after, fold_continuing};
use crate::records::{AccessRequest, MembershipEvent, Seal, VersionRecord};
use crate::remote::{self, Ahead, Remote};
use crate::state::{LocalState, Trust};
use crate::workspace::Workspace;
use crate::write_behind::WriteBehind;

#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// `--yes`: accept member keys that appeared since this user last looked.
    pub accept_new_keys: bool,
    /// `$XDG_STATE_HOME/envsync`: where this user's ledger of verified histories lives.
    /// `None` keeps it in the workspace's `.envsync/` (tests of the library only).
    pub state_home: Option<std::path::PathBuf>,
}

/// One command's view of a workspace and its remote.
pub struct Session {
    pub workspace: Workspace,
    pub(crate) remote: Box<dyn Remote>,
    pub(crate) state: LocalState,
    pub(crate) ledger: Ledger,
    pub(crate) identity_config: IdentityConfig,
    identity: Option<Identity>,
    pub(crate) options: SessionOptions,
    notices: Vec<String>,
    /// Heads read still encrypted to a removed member, with what to tell the user: shown
    /// with the notices unless this command re-encrypted them meanwhile.
    pub(crate) unrevoked_heads:
        std::collections::BTreeMap<crate::EnvironmentRef, super::reencrypt::UnrevokedHead>,
    /// Set while a command that writes many versions has this machine's copies of them
    /// written on a second thread ([`Session::with_writes_behind`]).
    write_behind: Option<WriteBehind>,
}

/// What a project's remote says about membership, with this user's trust decisions.
pub struct ProjectView {
    pub project: String,
    pub roster: Roster,
    pub trust: Trust,
}

impl ProjectView {
    /// A version's author as the membership log (signed by owners) names them, with their
    /// key's fingerprint; never the name the author wrote into their own record.
    pub(crate) fn author_of(&self, record: &VersionRecord) -> Option<(String, String)> {
        self.roster
            .find(&record.body.author)
            .map(|member| (member.name.clone(), member.key.fingerprint()))
    }
}

impl Session {
    pub fn open(
        workspace: Workspace,
        identity_config: IdentityConfig,
        credentials: &CredentialsConfig,
        options: SessionOptions,
    ) -> Result<Self> {
        let remote = remote::open(&workspace.config.remote, &workspace.root, credentials)?;
        Ok(Self::with_remote(
            workspace,
            remote,
            identity_config,
            options,
        ))
    }

    pub fn with_remote(
        workspace: Workspace,
        remote: Box<dyn Remote>,
        identity_config: IdentityConfig,
        options: SessionOptions,
    ) -> Self {
        let state = LocalState::new(workspace.state_dir());
        let state_home = options
            .state_home
            .clone()
            .unwrap_or_else(|| workspace.state_dir().join("ledger-home"));
        let ledger = Ledger::open(&state_home, &remote.describe());
        Self {
            workspace,
            remote,
            state,
            ledger,
            identity_config,
            identity: None,
            options,
            notices: Vec::new(),
            unrevoked_heads: std::collections::BTreeMap::new(),
            write_behind: None,
        }
    }

    /// Runs `work`, which creates versions environment after environment, with this
    /// machine's copies of them written on a second thread meanwhile (see
    /// [`crate::write_behind`]); returns once they are all on disk.
    pub(crate) fn with_writes_behind<T>(
        &mut self,
        work: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.write_behind = Some(WriteBehind::start());
        let outcome = work(self);
        let written = self.write_behind.take().map_or(Ok(()), WriteBehind::finish);
        let value = outcome?;
        written.map(|()| value)
    }

    /// Runs `job`, this machine's writes for the new version `record` with its
    /// `ciphertext`: now, or inside [`Session::with_writes_behind`] on copies of them on the
    /// second thread. Only that case copies them; a push writes from what it holds.
    pub(crate) fn write_locally(
        &self,
        record: &VersionRecord,
        ciphertext: &[u8],
        job: impl FnOnce(&VersionRecord, &[u8]) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        match &self.write_behind {
            Some(behind) => {
                let (record, ciphertext) = (record.clone(), ciphertext.to_vec());
                behind.push(move || job(&record, &ciphertext));
                Ok(())
            }
            None => job(record, ciphertext),
        }
    }

    /// Messages for the user gathered along the way (new identity, keys pinned, …).
    pub fn take_notices(&mut self) -> Vec<String> {
        let mut notices = std::mem::take(&mut self.notices);
        notices.extend(
            std::mem::take(&mut self.unrevoked_heads)
                .into_values()
                .map(|head| head.notice),
        );
        notices
    }

    pub(crate) fn notice(&mut self, message: String) {
        self.notices.push(message);
    }

    /// See [`Remote::watch_directory`].
    pub fn remote_watch_directory(&self) -> Option<std::path::PathBuf> {
        self.remote.watch_directory()
    }

    pub fn remote_events(&self) -> Option<crate::remote::EventSource> {
        self.remote.events()
    }

    pub fn remote_description(&self) -> String {
        self.remote.describe()
    }

    /// The newest entry of `project`'s membership log this machine has verified, if any:
    /// what `envsync dashboard` hands the page, which has no pinned keys of its own.
    pub fn verified_membership(&self, project: &str) -> Result<Option<crate::records::Pin>> {
        Ok(self.ledger.membership(project)?.map(|seen| seen.pin()))
    }

    /// The user's identity, created on first need.
    pub fn identity(&mut self) -> Result<&Identity> {
        if self.identity.is_none() {
            let (identity, created) = self.identity_config.load_or_create()?;
            if created {
                self.notices.push(format!(
                    "created your identity at {} (member key {}, fingerprint {})",
                    self.identity_config.default_path.display(),
                    identity.member_key(),
                    identity.member_key().fingerprint()
                ));
            }
            self.identity = Some(identity);
        }
        Ok(self.identity.as_ref().expect("identity was just loaded"))
    }

    /// The user's member key if an identity exists; never creates one.
    pub(crate) fn own_key(&mut self) -> Option<String> {
        if self.identity.is_none() {
            self.identity = self.identity_config.load().ok().flatten();
        }
        self.identity
            .as_ref()
            .map(|identity| identity.member_key().to_string())
    }

    /// Loads and verifies the membership log, checks it against this machine's ledger and
    /// moves the ledger on; on the first look at a project, pins every active member key
    /// (trust on first use) and says so. Removed members are never pinned: what they signed
    /// counts only inside the histories their removal pinned, which owners vouch for.
    pub fn project_view(&mut self, project: &str) -> Result<ProjectView> {
        // What the ledger pins is read once: the three steps below must agree on it.
        let seen = self.ledger.membership(project)?;
        let (roster, events, from_snapshot) = self.read_membership(project, seen.as_ref())?;
        self.check_membership_ledger(project, seen.as_ref(), &roster)?;
        self.ledger
            .advance_membership(project, seen.as_ref(), &events)?;
        // The ledger pins `roster`'s newest entry now (it held this machine's, and it never
        // moves back), so the fold is the snapshot to continue from next time.
        if !(from_snapshot && events.len() == 1) {
            self.ledger.save_roster(project, &roster)?;
        }
        let mut trust = self.state.trust(project)?;
        if trust.keys.is_empty() && !roster.members.is_empty() {
            let all: Vec<_> = roster.active().collect();
            let names = self.pin(project, &mut trust, &all, "first use")?;
            self.notice(format!(
                "project `{project}`: trusting its {} member key(s) on first use: {names}",
                all.len()
            ));
        }
        // Your own key is trusted by definition, whoever added it.
        if let Some(own) = self.own_key()
            && roster.find(&own).is_some()
            && !trust.contains(&own)
        {
            trust.add(&own, "you", "self");
            self.state.save_trust(project, &trust)?;
        }
        // `--yes` (CI): member keys new to this user are accepted for every purpose, reading
        // versions they signed as much as encrypting to them.
        if self.options.accept_new_keys {
            let new: Vec<_> = roster
                .active()
                .filter(|member| !trust.contains(member.key.as_str()))
                .collect();
            if !new.is_empty() {
                let names = self.pin(project, &mut trust, &new, "--yes")?;
                self.notice(format!(
                    "project `{project}`: accepted {} new member key(s) (--yes): {names}",
                    new.len()
                ));
            }
        }
        Ok(ProjectView {
            project: project.to_owned(),
            roster,
            trust,
        })
    }

    /// The project's access requests that are signed, current, and from keys that are not
    /// active members. Asked of the remote only by the commands that show or answer them
    /// (`status`, `members`, filing one's own): for every other command that reads the
    /// membership log it was a round trip for nothing (a fifth of a `run` from a server).
    pub(crate) fn access_requests(&self, view: &ProjectView) -> Result<Vec<AccessRequest>> {
        self.access_requests_read(view, None)
    }

    /// [`Session::access_requests`] from a read started `ahead` of the view, where it was.
    pub(crate) fn access_requests_read(
        &self,
        view: &ProjectView,
        ahead: Option<Ahead<Vec<AccessRequest>>>,
    ) -> Result<Vec<AccessRequest>> {
        let requests = Ahead::answer_or(ahead, || self.remote.access_requests(&view.project))?;
        Ok(current_requests(&view.project, &view.roster, requests))
    }

    /// The membership log verified and folded, the entries read for it, and whether it
    /// continued the ledger's snapshot. With a snapshot at the ledger's entry and that entry
    /// unchanged on the remote, only the entries from it on are read and the new ones
    /// verified; otherwise (no snapshot, the entry gone or different) the whole log is read,
    /// and what went wrong is said by [`Session::check_membership_ledger`].
    fn read_membership(
        &self,
        project: &str,
        seen: Option<&Seen>,
    ) -> Result<(Roster, Vec<MembershipEvent>, bool)> {
        if let Some(seen) = seen
            && let Some(snapshot) = self.ledger.roster(project, seen)
        {
            let tail = self.remote.membership_from(project, seen.number)?;
            if tail.first().is_some_and(|entry| {
                entry.body.number == seen.number && entry.digest() == seen.digest
            }) {
                let roster = fold_continuing(project, snapshot, &tail[1..])?;
                return Ok((roster, tail, true));
            }
        }
        let events = self.remote.membership(project)?;
        let verified = seen.map(|seen| seen.pin());
        let roster = fold_after(project, &events, verified.as_ref())?;
        Ok((roster, events, false))
    }

    /// The membership log must hold the newest entry this machine verified, unchanged.
    fn check_membership_ledger(
        &self,
        project: &str,
        seen: Option<&Seen>,
        roster: &Roster,
    ) -> Result<()> {
        let Some(seen) = seen else {
            return Ok(());
        };
        if roster.holds(&seen.pin()) {
            return Ok(());
        }
        let length = roster.next_number - 1;
        Err(ClientError::Integrity(if seen.number > length {
            format!(
                "the membership log of project `{project}` went back: {} shows {length} entries, but this machine verified entry {} on {}. Entries (a removal, say) were deleted; nothing was written. If the remote was restored from a backup, run `envsync repair` to put back what this machine verified",
                self.remote.describe(),
                seen.number,
                seen.seen_at
            )
        } else {
            format!(
                "the membership log of project `{project}` was rewritten: entry {} is not the one this machine verified on {}; nothing was written",
                seen.number, seen.seen_at
            )
        }))
    }

    /// Refuses anyone but an active owner of the project, naming the owners to ask;
    /// `doing` says what was refused ("change its members").
    pub(crate) fn require_owner(&mut self, view: &ProjectView, doing: &str) -> Result<()> {
        let me = self.identity()?.member_key().to_string();
        let owner = view
            .roster
            .find(&me)
            .is_some_and(|member| member.is_active() && member.role.can_manage_members());
        if owner {
            return Ok(());
        }
        Err(ClientError::NotAnOwner {
            project: view.project.clone(),
            doing: doing.to_owned(),
            owners: super::verify::owner_names(view),
        })
    }

    /// Trusts `members` (recording `how`), saves the trust file, and lists them for the
    /// notice that tells the user.
    fn pin(
        &self,
        project: &str,
        trust: &mut Trust,
        members: &[&Member],
        how: &str,
    ) -> Result<String> {
        for member in members {
            trust.add(member.key.as_str(), &member.name, how);
        }
        self.state.save_trust(project, trust)?;
        Ok(members
            .iter()
            .map(|member| member.label())
            .collect::<Vec<_>>()
            .join(", "))
    }

    pub fn workspace_root(&self) -> &Path {
        &self.workspace.root
    }
}

/// Access requests an owner should see: well-formed, signed by the key they ask for, not
/// expired, from a key that is not an active member, and not older than that key's latest
/// removal (a request filed before a removal cannot be replayed to ask again).
fn current_requests(
    project: &str,
    roster: &Roster,
    requests: Vec<AccessRequest>,
) -> Vec<AccessRequest> {
    let now = crate::records::now_unix();
    requests
        .into_iter()
        .filter(|request| {
            let body = &request.body;
            let member = roster.find(&body.member);
            body.project == project
                && body.format == crate::records::FORMAT
                && body.expires_at > now
                && request.verified_signer().is_ok()
                && member.is_none_or(|member| {
                    !member.is_active()
                        && member
                            .removed_in
                            .is_none_or(|removal| removal <= body.after)
                })
        })
        .collect()
}
