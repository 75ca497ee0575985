//! Publishing an environment to a store (`envsync publish`), with this machine's record of
//! what it last wrote to stores that cannot return values (GitHub), kept in `.envsync/`.

use indexmap::IndexMap;

use super::Session;
use crate::environment_ref::EnvironmentRef;
use crate::error::Result;
use crate::stores::StoreUrl;
use crate::stores::publish::{Memory, Outcome, publish};

impl Session {
    /// Compares `vars` (the variables of `place`) with what `url` holds and, when `write`,
    /// makes it hold them; `prune` also removes keys the environment does not have.
    pub fn publish_to(
        &mut self,
        place: &EnvironmentRef,
        url: &StoreUrl,
        vars: &IndexMap<String, String>,
        write: bool,
        prune: bool,
    ) -> Result<Outcome> {
        let digests = self.identity()?.keyed_digest();
        let to = url.to_string();
        let before = self.state.publish_record(place, &to)?;
        let mut memory = Memory {
            digests: &digests,
            record: before.clone(),
        };
        let outcome = publish(url, vars, write, prune, &mut memory)?;
        if write && memory.record != before {
            self.state.save_publish_record(place, &to, &memory.record)?;
        }
        Ok(outcome)
    }
}
