//! Publication records: that a version was written to a store (`envsync publish`), signed
//! by the publisher and kept on the remote beside the versions, so that `log` shows which
//! version went where and `status` whether each target was last given the head, without
//! contacting the targets.
//!
//! A record is believed as a version is: its signature verifies, it sits at its own place,
//! and its publisher could read the environment at the membership entry it names (a
//! standing that has since ended vouches only for versions inside the history pinned when
//! it ended). One that does not verify is left out rather than refused: records only ever
//! inform, and a remote that drops or hides them can make a target look behind, never
//! make a version look published that no member published.

use envsync_core::status::{PublishState, fits_history};
use serde::Serialize;

use super::{ProjectView, Session};
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::membership::SignerStanding;
use crate::records::{FORMAT, Pin, PublicationBody, PublicationRecord, Seal, Signed, now_rfc3339};
use crate::workspace::Target;

/// A publication record this user believes.
#[derive(Debug, Clone, Serialize)]
pub struct Publication {
    pub number: u64,
    /// The store URL, as `envsync.toml` writes it.
    pub to: String,
    pub version: Pin,
    /// The publisher's name as the owner-signed membership log records it for their key.
    pub publisher: String,
    pub fingerprint: String,
    pub published_at: String,
    pub keys: Vec<String>,
    pub pruned: bool,
}

/// A publish target of `envsync.toml` and what the records say of it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    pub project: String,
    pub environment: String,
    pub to: String,
    pub state: PublishState,
    /// The newest believed record for the target.
    pub last: Option<Publication>,
}

/// What `envsync publish` wrote to one target, to be recorded.
pub struct PublishedVersion<'a> {
    pub version: &'a Pin,
    pub to: &'a str,
    pub keys: Vec<String>,
    pub pruned: bool,
}

/// Lost races in a row before recording gives up: each means another record took the slot.
const ATTEMPTS: usize = 20;

impl Session {
    /// Records on the remote that `published.version` of `target` went to `published.to`.
    /// Nothing is added when the newest record for that target already says the same, so
    /// publishing twice leaves the remote as it was too. `true` when a record was added.
    /// `view` is the project's membership as the caller read it once for all its targets.
    pub fn record_publication(
        &mut self,
        view: &ProjectView,
        target: &Target,
        published: PublishedVersion<'_>,
    ) -> Result<bool> {
        let mut log = self.remote.publications(target)?;
        let believed = believe_all(view, target, &log.records);
        let same = |last: &Publication| {
            last.version == *published.version
                && last.keys == published.keys
                && last.pruned == published.pruned
        };
        if newest_for(&believed, published.to).is_some_and(same) {
            return Ok(false);
        }
        let membership = view.roster.tip().ok_or_else(|| {
            ClientError::Integrity(format!("project `{}` has no members yet", view.project))
        })?;
        let publisher = self.identity()?.member_key().to_string();
        for _ in 0..ATTEMPTS {
            let body = PublicationBody {
                format: FORMAT,
                project: target.project.clone(),
                environment: target.environment.clone(),
                number: log.last_number + 1,
                version: published.version.clone(),
                membership: membership.clone(),
                target: published.to.to_owned(),
                keys: published.keys.clone(),
                pruned: published.pruned,
                publisher: publisher.clone(),
                published_at: now_rfc3339(),
            };
            let record = Signed::sign(body, self.identity()?);
            if self.remote.append_publication(&record)? {
                return Ok(true);
            }
            log = self.remote.publications(target)?;
        }
        Err(ClientError::Remote(format!(
            "recording the publication of {target} to {}: {ATTEMPTS} other records took the \
             next number first; try again",
            published.to
        )))
    }

    /// The environment's publication records this user believes, oldest first.
    pub(crate) fn believed_publications(
        &self,
        view: &ProjectView,
        place: &EnvironmentRef,
    ) -> Result<Vec<Publication>> {
        let log = self.remote.publications(place)?;
        Ok(believe_all(view, place, &log.records))
    }

    /// Each of `targets` (store URLs) of `place`, judged against the verified `head`.
    pub(crate) fn target_statuses(
        &self,
        view: &ProjectView,
        place: &EnvironmentRef,
        head: Option<&Pin>,
        targets: &[String],
    ) -> Result<Vec<TargetStatus>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let believed = match head {
            Some(head) => self
                .believed_publications(view, place)?
                .into_iter()
                .filter(|publication| fits_history(head, &publication.version))
                .collect(),
            None => Vec::new(),
        };
        Ok(targets
            .iter()
            .map(|to| {
                let last = newest_for(&believed, to).cloned();
                TargetStatus {
                    project: place.project.clone(),
                    environment: place.environment.clone(),
                    to: to.clone(),
                    state: PublishState::of(head, last.as_ref().map(|last| &last.version)),
                    last,
                }
            })
            .collect())
    }
}

/// The newest record for the store URL `to`.
fn newest_for<'a>(believed: &'a [Publication], to: &str) -> Option<&'a Publication> {
    believed
        .iter()
        .rev()
        .find(|publication| publication.to == to)
}

fn believe_all(
    view: &ProjectView,
    place: &EnvironmentRef,
    records: &[PublicationRecord],
) -> Vec<Publication> {
    records
        .iter()
        .filter_map(|record| believe(view, place, record))
        .collect()
}

/// The record as a [`Publication`] when it verifies (see the module's doc), else `None`.
fn believe(
    view: &ProjectView,
    place: &EnvironmentRef,
    record: &PublicationRecord,
) -> Option<Publication> {
    let body = &record.body;
    if body.format != FORMAT
        || body.project != place.project
        || body.environment != place.environment
    {
        return None;
    }
    record.verified_signer().ok()?;
    if !view.roster.holds(&body.membership) {
        return None;
    }
    let publisher = view.roster.find(&body.publisher)?;
    let standing = publisher.reader_standing(
        &place.environment,
        body.version.number,
        body.membership.number,
    )?;
    if standing == SignerStanding::Current && !view.trust.contains(&body.publisher) {
        return None;
    }
    Some(Publication {
        number: body.number,
        to: body.target.clone(),
        version: body.version.clone(),
        publisher: publisher.name.clone(),
        fingerprint: publisher.key.fingerprint(),
        published_at: body.published_at.clone(),
        keys: body.keys.clone(),
        pruned: body.pruned,
    })
}
