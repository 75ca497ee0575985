//! `envsync publish`: copies environments to the stores `[[projects.NAME.publish]]` names,
//! from the verified remote head decrypted in memory; only what differs is written.
//! `--check` reports drift (exit 7) and writes nothing. One failing target does not stop
//! the others; the exit code says some failed.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::engine::{ProjectView, PublishedVersion, Session};
use envsync_client::stores::StoreUrl;
use envsync_client::workspace::Target;
use envsync_core::config::PublishTarget;
use envsync_core::dotenv::Document;
use envsync_core::records::Pin;
use indexmap::IndexMap;

use super::print_notices;
use crate::cli::PublishArgs;
use crate::exit;
use crate::output::{Published, PublishedTarget};
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: PublishArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let project = session.workspace.project(args.project.as_deref())?;
    let targets = chosen(&session.workspace.config.projects[&project].publish, &args)?;
    // The membership view each publication record cites, read once for every target.
    let view = if !args.check && !args.dry_run {
        let view = session.project_view(&project);
        print_notices(&mut session, printer);
        Some(view?)
    } else {
        None
    };
    let mut heads: HashMap<String, (Pin, IndexMap<String, String>)> = HashMap::new();
    let mut report = Vec::new();
    let mut progress = printer.progress(targets.len());
    for target in &targets {
        progress.step(&format!("{} -> {}", target.environment, target.to));
        let place = session
            .workspace
            .target(Some(&project), Some(&target.environment))?;
        if !heads.contains_key(&target.environment) {
            let head = session.head_plaintext(&place);
            print_notices(&mut session, printer);
            let (version, content) = head?;
            let text = String::from_utf8_lossy(&content).into_owned();
            heads.insert(
                target.environment.clone(),
                (version, Document::parse(&text).vars()),
            );
        }
        let (version, vars) = &heads[&target.environment];
        let head = (version, vars);
        report.push(one(
            &mut session,
            view.as_ref(),
            &place,
            target,
            head,
            &args,
        ));
    }
    drop(progress);
    let failed = report.iter().any(|target| target.error.is_some());
    let drifted = report.iter().any(|target| target.drifted);
    printer.emit(&Published {
        check: args.check,
        dry_run: args.dry_run,
        targets: report,
    });
    Ok(match (failed, args.check && drifted) {
        (true, _) => ExitCode::from(exit::FAILURE),
        (false, true) => ExitCode::from(exit::DIFFERENT),
        (false, false) => ExitCode::SUCCESS,
    })
}

/// The targets `-e` and `--to` select; none at all is bad input.
fn chosen(all: &[PublishTarget], args: &PublishArgs) -> Result<Vec<PublishTarget>> {
    let targets: Vec<PublishTarget> = all
        .iter()
        .filter(|target| {
            args.environment
                .as_ref()
                .is_none_or(|env| &target.environment == env)
        })
        .filter(|target| args.to.as_ref().is_none_or(|to| &target.to == to))
        .cloned()
        .collect();
    if targets.is_empty() {
        return Err(ClientError::Input(
            "no [[projects.NAME.publish]] target in envsync.toml matches (environment = \"…\", \
             to = \"aws-sm://…\")"
                .into(),
        )
        .into());
    }
    Ok(targets)
}

/// One target: its report, with the error in it when it failed. A write that worked is
/// recorded on the remote, signed, for `status` and `log`.
fn one(
    session: &mut Session,
    view: Option<&ProjectView>,
    place: &Target,
    target: &PublishTarget,
    (version, vars): (&Pin, &IndexMap<String, String>),
    args: &PublishArgs,
) -> PublishedTarget {
    let filtered: IndexMap<String, String> = vars
        .iter()
        .filter(|(key, _)| target.includes(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let write = !args.check && !args.dry_run;
    let url = StoreUrl::parse(&target.to);
    let values_readable = url.as_ref().is_ok_and(|url| url.kind.values_readable());
    let result = url.and_then(|url| session.publish_to(place, &url, &filtered, write, args.prune));
    let mut report = PublishedTarget {
        to: target.to.clone(),
        environment: target.environment.clone(),
        version: version.number,
        keys: filtered.len(),
        values_readable,
        ..PublishedTarget::default()
    };
    match result {
        Ok(outcome) => {
            report.drifted = !outcome.drift.is_empty(args.prune);
            report.missing = outcome.drift.missing;
            report.changed = outcome.drift.changed;
            report.extra = outcome.drift.extra;
            report.unverified = outcome.drift.unverified;
            report.writes = outcome.writes;
        }
        Err(error) => report.error = Some(error.to_string()),
    }
    if let Some(view) = view.filter(|_| write && report.error.is_none()) {
        let mut keys: Vec<String> = filtered.into_keys().collect();
        keys.sort();
        let published = PublishedVersion {
            version,
            to: &target.to,
            keys,
            pruned: args.prune,
        };
        match session.record_publication(view, place, published) {
            Ok(added) => report.recorded = added,
            Err(error) => {
                report.error = Some(format!(
                    "published, but not recorded on the remote: {error}"
                ));
            }
        }
    }
    report
}
