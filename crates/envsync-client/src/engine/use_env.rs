//! `envsync use ENV`: points a project's default linked file at another environment, on this
//! machine only. The choice is kept in `.envsync/` (git-ignored), never in `envsync.toml`,
//! so a teammate's checkout is never switched by someone else's.

use serde::Serialize;

use super::Session;
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::workspace::{Link, Target};

#[derive(Debug, Clone, Serialize)]
pub struct UseOutcome {
    pub project: String,
    /// The environment the default file holds now.
    pub environment: String,
    /// The one it held before.
    pub previous: String,
    /// The default file, as `envsync.toml` names it.
    pub file: String,
    /// The version written into it; `None` when nothing changed (already in use).
    pub version: Option<u64>,
    /// Who made that version, as the membership log names them.
    pub author: Option<String>,
}

impl Session {
    /// Switches `project`'s default file to `environment`, or back to the default
    /// environment with `None` (`--reset`). Refuses while the file has unpushed edits,
    /// and checks the new environment (known, not protected, readable, with a version)
    /// before anything is written.
    pub fn use_environment(
        &mut self,
        project: Option<&str>,
        environment: Option<&str>,
    ) -> Result<UseOutcome> {
        let project = self.workspace.project(project)?;
        let settings = &self.workspace.config.projects[&project];
        let default = settings.default_environment().to_owned();
        let wanted = environment.unwrap_or(&default).to_owned();
        let current = self.workspace.used(&project).unwrap_or(&default).to_owned();
        let next = self.workspace.target_for(&project, &wanted)?;
        if environment.is_some() && settings.is_protected(&wanted) {
            return Err(ClientError::ProtectedNotUsable {
                place: next.place.clone(),
            });
        }
        let held = self.workspace.target_for(&project, &current)?;
        let mut outcome = UseOutcome {
            project: project.clone(),
            environment: wanted.clone(),
            previous: current.clone(),
            file: held.file_label.clone(),
            version: None,
            author: None,
        };
        let state_dir = self.workspace.state_dir();
        if wanted == current {
            // The file already holds it; only whether `use` outranks the branch map changes.
            crate::choice::write_use(&state_dir, &project, environment)?;
            return Ok(outcome);
        }
        self.refuse_unpushed_edits(&held)?;
        let next = as_held_by_default_file(next, &held, wanted == default);
        self.switch(&next, environment, &mut outcome)?;
        Ok(outcome)
    }

    /// The default file's unpushed edits (for the environment it holds) stop a switch:
    /// they would be lost, or worse, pushed later to the other environment.
    fn refuse_unpushed_edits(&self, held: &Target) -> Result<()> {
        let Some(local) = self.read_local(held)? else {
            return Ok(());
        };
        if self.has_unpushed_edits(held, &local)? {
            return Err(ClientError::LocalChanges(format!(
                "{} has changes to {held} that are not on the remote; nothing was switched. \
                 Run `envsync push` (or `envsync sync`) first, or `envsync pull --force` to \
                 drop them (a backup is kept)",
                held.file_label
            )));
        }
        Ok(())
    }

    /// Verifies and decrypts `next`'s head, then records the choice (`recorded`; `None`
    /// forgets it) and writes the file.
    /// The target's old base is forgotten first: if the machine stops between the record
    /// and the file, the file counts as never synced (pull refuses to overwrite it without
    /// `--force`) instead of passing one environment's content off as another's edits.
    fn switch(
        &mut self,
        next: &Target,
        recorded: Option<&str>,
        outcome: &mut UseOutcome,
    ) -> Result<()> {
        let view = self.project_view(&next.project)?;
        let record = self.require_verified_head(&view, next)?;
        let (ciphertext, content) = self.open_version(&view, next, &record)?;
        outcome.version = Some(record.body.number);
        outcome.author = view.author_of(&record).map(|(name, _)| name);
        self.state.forget(next)?;
        crate::choice::write_use(&self.workspace.state_dir(), &next.project, recorded)?;
        self.write_local(next, &content, &record, &ciphertext)
    }
}

/// `next` as it will be once the default file holds it: the default file, with the base
/// kept apart under `envsync use` (or the default environment's own, going back).
fn as_held_by_default_file(next: Target, held: &Target, is_default: bool) -> Target {
    Target {
        place: EnvironmentRef::new(&next.project, &next.environment),
        file_label: held.file_label.clone(),
        file: held.file.clone(),
        link: if is_default {
            Link::Configured
        } else {
            Link::Used
        },
    }
}
