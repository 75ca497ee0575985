//! `pull --all`: a newcomer's first pull of every environment their role lets them read.

use super::Session;
use crate::error::Result;
use crate::workspace::Target;

impl Session {
    /// Whether this user's role covers `target`'s environment. Someone who is not a member
    /// of the project at all gets the error (and the access request) a plain `pull` gives;
    /// a project with no members yet is left for `pull` to explain.
    pub fn may_read(&mut self, target: &Target) -> Result<bool> {
        let view = self.project_view(&target.project)?;
        if view.roster.members.is_empty() {
            return Ok(true);
        }
        let key = self.identity()?.member_key().to_string();
        match view.roster.find(&key) {
            Some(member) if member.is_active() => Ok(member.may_read(&target.environment)),
            _ => Err(self.ask_for_access(&view)?),
        }
    }
}
