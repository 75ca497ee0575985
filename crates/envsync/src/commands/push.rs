use std::process::ExitCode;

use anyhow::Result;
use envsync_client::records::ChangeSummary;

use super::{open, print_notices};
use crate::cli::PushArgs;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: PushArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let (mut session, target) = open(settings, &args.target)?;
    if args.dry_run {
        let result = session.push_dry_run(&target);
        print_notices(&mut session, printer);
        return super::dry_run::print(&result?, &target, printer);
    }
    let result = session.push(&target, &args.message);
    print_notices(&mut session, printer);
    let outcome = result?;
    if printer.json {
        printer.json(&outcome);
        return Ok(ExitCode::SUCCESS);
    }
    match outcome.version {
        None => printer.message(format!(
            "nothing to push: {} is unchanged since the last pull or push",
            target.file_label
        )),
        Some(version) => printer.message(format!(
            "pushed version {version} of {}/{}{}",
            target.project,
            target.environment,
            summary(&outcome.changes)
        )),
    }
    Ok(ExitCode::SUCCESS)
}

/// ` (+2 added, ~1 changed)`, or nothing.
pub fn summary(changes: &ChangeSummary) -> String {
    let parts: Vec<String> = [
        (changes.added.len(), "added"),
        (changes.changed.len(), "changed"),
        (changes.removed.len(), "removed"),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, what)| format!("{count} {what}"))
    .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}
