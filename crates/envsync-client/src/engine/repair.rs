//! `envsync repair`: after a remote legitimately went back (restored from an older backup),
//! puts back, unchanged, the records this machine verified and kept in its ledger. Every
//! other client verifies them as usual, so repair can restore only what was really there.
//! It also finishes removals that stopped before re-encrypting: heads still encrypted to a
//! removed member become new versions encrypted to the current readers.

use serde::Serialize;

use super::Session;
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};

/// What `repair` put back.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Repaired {
    pub project: String,
    /// Membership entries appended again.
    pub membership: Vec<u64>,
    /// Per environment, the versions created again.
    pub versions: Vec<(String, Vec<u64>)>,
    /// What could not be put back and why (a ciphertext this machine never downloaded).
    pub missing: Vec<String>,
    /// Environments whose head was still encrypted to a removed member, re-encrypted now.
    pub reencrypted: Vec<String>,
    /// Heads still encrypted to a removed member that this user may not re-encrypt.
    pub unrevoked: Vec<String>,
}

impl Session {
    /// Puts back every membership entry and version of `project` that this machine
    /// verified and the remote no longer shows. Refuses when the remote shows something
    /// else at a number this machine verified: that is a rewrite, not a loss.
    pub fn repair(&mut self, project: &str) -> Result<Repaired> {
        let mut repaired = Repaired {
            project: project.to_owned(),
            ..Repaired::default()
        };
        repaired.membership = self.repair_membership(project)?;
        for environment in self.ledger.environments(project)? {
            let place = EnvironmentRef::new(project, &environment);
            let (created, missing) = self.repair_environment(&place)?;
            if !created.is_empty() {
                repaired.versions.push((environment, created));
            }
            repaired.missing.extend(missing);
        }
        let view = self.project_view(project)?;
        (repaired.reencrypted, repaired.unrevoked) = self.finish_removals(&view)?;
        Ok(repaired)
    }

    fn repair_membership(&mut self, project: &str) -> Result<Vec<u64>> {
        let Some(seen) = self.ledger.membership(project)? else {
            return Ok(Vec::new());
        };
        let events = self.remote.membership(project)?;
        for event in &events {
            let kept = self.ledger.kept_event(project, event.body.number)?;
            if kept.is_some_and(|kept| kept.digest() != event.digest()) {
                return Err(ClientError::Integrity(format!(
                    "membership entry {} of project `{project}` on the remote differs from the one this machine verified: the log was rewritten, which repair cannot undo",
                    event.body.number
                )));
            }
        }
        let mut appended = Vec::new();
        for number in events.len() as u64 + 1..=seen.number {
            let event = self.ledger.kept_event(project, number)?.ok_or_else(|| {
                ClientError::Integrity(format!(
                    "this machine has no copy of membership entry {number} of project `{project}`"
                ))
            })?;
            if !self.remote.append_membership(&event)? {
                return Err(ClientError::Conflict(format!(
                    "membership entry {number} of project `{project}` appeared while repairing: run `envsync repair` again"
                )));
            }
            appended.push(number);
        }
        Ok(appended)
    }

    fn repair_environment(&mut self, place: &EnvironmentRef) -> Result<(Vec<u64>, Vec<String>)> {
        let Some(seen) = self.ledger.environment(place)? else {
            return Ok((Vec::new(), Vec::new()));
        };
        let head = self.remote.head(place)?.unwrap_or(0);
        let (mut created, mut missing) = (Vec::new(), Vec::new());
        for number in head + 1..=seen.number {
            let Some(record) = self.ledger.kept_version(place, number)? else {
                missing.push(format!("{place} version {number}: no copy here"));
                break;
            };
            let Some(ciphertext) = self.ledger.kept_ciphertext(&record)? else {
                missing.push(format!(
                    "{place} version {number}: this machine never downloaded its ciphertext"
                ));
                break;
            };
            if !self.remote.create_version(&record, &ciphertext)? {
                return Err(ClientError::Conflict(format!(
                    "version {number} of {place} appeared while repairing: run `envsync repair` again"
                )));
            }
            created.push(number);
        }
        Ok((created, missing))
    }
}
